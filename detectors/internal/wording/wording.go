// Package wording holds the small rules by which the detectors word
// their findings, shared by the detector packages.
package wording

// UpperFirst capitalises the first letter of a sentence that starts with
// a lowercase ASCII word ("handlers panic" → "Handlers panic"); anything
// else is returned as it is.
func UpperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
