"""Staff records and import files: each bad field is named, with how to fix it."""

from pathlib import Path

import pytest

from models.enums import Role
from models.errors import InputError
from models.staff import mask_address, new_staff, read_import_file


def test_a_person_is_read_with_roles_in_any_separator() -> None:
    person = new_staff(id="iro-1", name=" Sam Iro ", roles="iro; iro_manager,iro")
    assert person.roles == (Role.iro, Role.iro_manager)
    assert person.name == "Sam Iro"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"id": "Has Space", "name": "A", "roles": ["iro"]},
            "id: 'Has Space' is not a valid staff id",
        ),
        ({"id": "a1", "name": "A", "roles": ["iroo"]}, "roles: 'iroo' is not a role; roles: lado,"),
        ({"id": "a1", "name": "A", "roles": []}, "roles:"),
        ({"id": "a1", "name": "   ", "roles": ["iro"]}, "name: a name cannot be blank"),
        ({"id": "a1", "roles": ["iro"]}, "name: is required"),
        ({"id": "a1", "name": "A", "roles": ["iro"], "grade": 7}, "grade: is not a field"),
        (
            {"id": "a1", "name": "A", "roles": ["iro"], "line_manager": "Not Valid"},
            "line_manager: 'Not Valid'",
        ),
    ],
)
def test_a_bad_person_names_the_field(fields: dict[str, object], message: str) -> None:
    with pytest.raises(InputError) as caught:
        new_staff(**fields)
    assert message in str(caught.value)


def test_an_address_is_never_shown_in_full() -> None:
    url = "mailtos://notices:s3cret@mail.example.org?to=iro@example.org"
    shown = mask_address(url)
    assert shown.startswith("mailtos://")
    for secret in ("s3cret", "notices", "iro@example.org", "mail.example.org"):
        assert secret not in shown


def test_a_csv_team_is_read(tmp_path: Path) -> None:
    path = tmp_path / "team.csv"
    path.write_text(
        "id,name,roles,line_manager,addresses\n"
        "hos-1,Head Of Service,head_of_service,,\n"
        'lm-1,Lado Manager,"lado_manager lado",hos-1,mailto://u:p@example.org?to=lm@example.org\n'
    )
    people = read_import_file(path)
    assert [p.id for p in people] == ["hos-1", "lm-1"]
    assert people[1].roles == (Role.lado_manager, Role.lado)
    assert people[1].line_manager == "hos-1"


def test_a_yaml_team_is_read(tmp_path: Path) -> None:
    path = tmp_path / "team.yaml"
    path.write_text(
        "staff:\n"
        "  - {id: hos-1, name: Head, roles: [head_of_service]}\n"
        "  - id: iro-1\n    name: An Iro\n    roles: [iro]\n    line_manager: hos-1\n"
        "    addresses: ['mailto://u:p@example.org?to=iro@example.org']\n"
    )
    people = read_import_file(path)
    assert [p.id for p in people] == ["hos-1", "iro-1"]
    assert len(people[1].addresses) == 1


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("team.csv", "id,name\nx,y\n", "the header must name the columns"),
        ("team.csv", "id,name,roles,colour\nx,y,iro,red\n", "unknown: colour"),
        (
            "team.csv",
            "id,name,roles\nx,X,iro\ny,Y,wizard\n",
            "team.csv: line 3: roles: 'wizard' is not a role",
        ),
        ("team.csv", "id,name,roles\nx,X,iro,extra\n", "line 2: more cells than columns"),
        ("team.csv", "id,name,roles\n", "has no staff in it"),
        ("team.yaml", "- {id: x, name: X, roles: [iro]\n", "not valid YAML"),
        ("team.yaml", "just text\n", "expected a list of people"),
        ("team.yaml", "- {id: x, roles: [iro]}\n", "team.yaml: entry 1: name: is required"),
        ("team.txt", "x", "give a .csv or .yaml file"),
    ],
)
def test_a_malformed_import_file_says_where(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        read_import_file(path)
    assert message in str(caught.value)
