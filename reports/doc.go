// Package reports will hold the writers for conformance results: JSON,
// JUnit XML, HTML and Markdown. It is empty until that work lands.
package reports
