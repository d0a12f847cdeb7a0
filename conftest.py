# The embedded-stack fixtures (`stack`, `stack_env`) for every test in the workspace.
pytest_plugins = ["labelgraph_devstack.pytest_plugin"]
