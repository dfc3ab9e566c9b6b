from launchready.cli.main import main

main()
