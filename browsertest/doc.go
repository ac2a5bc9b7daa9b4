// Package browsertest walks refeed's HTML pages in a real, headless Chromium:
// it builds the refeed binary, serves the sample feeds of the shipped config,
// and drives the browser from the home page to a category, a post and back,
// then through a search. On each page it checks the visible text (Chinese
// intact, no mojibake), the links, the console (no errors, no failed
// requests), the layout on a phone-sized viewport and the text contrast in
// light and dark mode, and it saves full-page screenshots.
//
// The package holds only tests. Without Chromium they skip, unless the
// environment sets REFEED_BROWSER_TEST=1 (as scripts/browser.sh and CI do):
// then a missing browser fails the test. REFEED_CHROMIUM names the browser
// binary when it is not on PATH as chromium; REFEED_SCREENSHOTS names the
// directory for the screenshots (default: a temporary directory).
package browsertest
