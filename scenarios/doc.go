// Package scenarios will hold the bundled scenario files and the code that
// loads, validates and runs them. It is empty until that work lands.
package scenarios
