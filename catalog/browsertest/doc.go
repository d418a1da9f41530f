// Package browsertest checks the static site of detect catalog in a real
// headless browser: the index lists every rule, its filters work, a rule's
// page shows its facts, pages fit a phone's screen, and nothing logs an
// error. It is a module of its own so that the browser driver it needs is
// not a dependency of detect.
//
// Run it with go test in this directory; it needs Chromium (Debian's
// chromium package) and skips without it unless DETECT_BROWSER_TEST=1,
// which CI sets. With -update it rewrites the screenshots under docs/.
package browsertest
