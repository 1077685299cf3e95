"""The browser app (FastAPI, Jinja2, GOV.UK Frontend): the pages and forms in web/app.py (and
web/record.py, web/forms.py, web/charts.py), built as a service by web/service.py. `safeguard web`
serves it alone; `safeguard serve` (`make run`) serves it beside the Prefect server and the
deployments."""
