from micrograd.cli import console

console()
