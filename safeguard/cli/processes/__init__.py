"""Each process's own commands (e.g. `safeguard allegation start`: one option per field of its start
input), named by its declaration (`ProcessDecl.cli`) and added by the CLI through the registry. They
build the same input as `safeguard start PROCESS --input FILE` and go through the same service; the
helpers they share are safeguard/cli/common.py's."""
