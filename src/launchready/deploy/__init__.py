"""The deploy gate: run the deploy command, wait for health, run the smoke flows, roll back on
failure, record every deploy in the history database and tell the notification targets."""
