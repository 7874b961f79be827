// Command hello does nothing: scripts/bench-jail.sh times it as the floor
// of any Go program's start-up on the machine.
package main

func main() {}
