package profile

// LoadBuiltins lets the specs load built-in profiles from a file system of their own.
var LoadBuiltins = loadBuiltins
