// Command empty is the floor for start-up benchmarks: a Go program that does nothing.
package main

func main() {}
