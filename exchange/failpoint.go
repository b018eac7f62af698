//go:build !ebsp_failpoints

package exchange

// failpoint marks a place where a crash would leave the store and the
// audit log out of step (the decision or release leaf written, the store
// not yet told). It does nothing in a normal build; built with the tag
// ebsp_failpoints (failpoint_on.go), the process kills itself there, so
// that tests can put a kill -9 exactly in the window.
func failpoint(string) {}
