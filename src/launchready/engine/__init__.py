"""Running an audit: network settings, discovery, the context checks see, the runner, ranking."""
