from costcorrect.cli.app import main

main()
