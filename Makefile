# Muster: `make demo` runs it with demo data; `make test` runs the whole test suite.
.PHONY: demo demo-reset serve test check fmt bench lock

PY := .venv/bin/python
MUSTER := .venv/bin/muster
HOST ?= 127.0.0.1
PORT ?= 8000

demo:
	scripts/bootstrap.sh demo
	$(MUSTER) migrate --no-input -v 0
	MUSTER_HOST=$(HOST) MUSTER_PORT=$(PORT) $(MUSTER) demo --if-empty
	$(MUSTER) serve --host $(HOST) --port $(PORT)

demo-reset:
	rm -f var/muster.sqlite3 var/muster.sqlite3-wal var/muster.sqlite3-shm
	$(MAKE) demo

test:
	scripts/test.sh

check: test

fmt:
	scripts/bootstrap.sh test
	.venv/bin/ruff check --fix src tests bench
	.venv/bin/ruff format src tests bench

bench:
	scripts/bootstrap.sh test
	bench/run.sh

lock:
	.venv/bin/uv pip compile pyproject.toml --extra dev -o requirements.txt
