# Two commands that work on a fresh machine: `make app` and `make test`.
# Each creates .venv with the machine's Python if it is missing and (re)installs the project
# whenever pyproject.toml is newer than the stamp inside .venv.
# (Streamlit's first-run e-mail prompt would block `make app` on a fresh machine: it is switched off.)

PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: test app bench install

test: $(STAMP)
	$(VENV)/bin/python -m pytest

app: $(STAMP)
	@test -f app.py || { echo "app.py does not exist yet: the Streamlit app has not been written"; exit 1; }
	STREAMLIT_SERVER_SHOW_EMAIL_PROMPT=false $(VENV)/bin/streamlit run app.py

bench: $(STAMP)
	@test -f benchmarks/run.py || { echo "benchmarks/run.py does not exist yet"; exit 1; }
	$(VENV)/bin/python benchmarks/run.py

install: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# After installing, one tiny run compiles the model's numba loops into int_sim/__pycache__ (about
# half a minute, once), so the first run in the app or a test does not pay it.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/pip install -e '.[app,test]'
	@echo "compiling the model's loops (once, about half a minute)"
	$(VENV)/bin/int-sim run scenarios/baseline.yaml --reps 1 --set population.size=1000 \
		--set simulation.days=30 --set simulation.warmup_days=0 > /dev/null
	touch $(STAMP)
