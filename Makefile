# Two commands matter: `make run` (set up and serve the demo) and `make test` (the whole suite).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PROVINCE ?= 22

.PHONY: run test install migrate demo serve worker beat bench clean

# DEBUG is off unless set (config/settings.py); the demo and the suite's checks run the
# development configuration, production sets DEBUG=false, SECRET_KEY and AUDIT_HMAC_KEY itself.
run test demo migrate: export DEBUG ?= true

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "需要 Python 3.11（$(PYTHON)）"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_regions --province $(DEMO_PROVINCE)
	$(PY) manage.py seed_demo

run: demo
	@echo "打开 http://$(HOST):$(PORT)/ （演示账号见上方）"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -q $(PYTEST_ARGS)

worker: install
	$(VENV)/bin/celery -A config worker -l info

beat: install
	$(VENV)/bin/celery -A config beat -l info

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles test-artifacts
