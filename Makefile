.PHONY: setup demo test bench
setup:
	scripts/setup
demo:
	scripts/demo
test:
	scripts/test
bench:
	scripts/bench
