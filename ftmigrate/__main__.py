from ftmigrate.cli import main

main()
