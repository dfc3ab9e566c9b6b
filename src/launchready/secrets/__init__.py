"""Secret scanning (tree, staged, history, logs) and the environment contract."""
