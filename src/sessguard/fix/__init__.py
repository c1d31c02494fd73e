"""The autofix: `sessguard fix` and the edits that JSON and SARIF carry (issue: libcst is
imported only here, and this package only when a report holds a fixable finding)."""
