package render

// Fast checks for the name shapes Kubernetes requires, with the same
// meaning as k8s.io/apimachinery's validation functions but without regular
// expressions: generated objects are checked by the thousand, and only a
// failing value needs apimachinery's wording for its message.

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnumMixed(c byte) bool { return isAlnum(c) || c >= 'A' && c <= 'Z' }

// isDNS1123Label: lowercase alphanumerics and '-', starting and ending
// alphanumeric, at most 63 characters.
func isDNS1123Label(s string) bool {
	if len(s) == 0 || len(s) > 63 || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// isDNS1123Subdomain: dot-separated DNS-1123 labels (each up to 63
// characters by the label rule's shape), at most 253 characters.
func isDNS1123Subdomain(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if !isSubdomainPart(s[start:i]) {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// isSubdomainPart is a label's shape without the 63-character limit, as
// apimachinery's subdomain pattern has it.
func isSubdomainPart(s string) bool {
	if len(s) == 0 || !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if !isAlnum(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// isLabelValue: empty, or up to 63 characters of alphanumerics, '-', '_'
// and '.', starting and ending alphanumeric.
func isLabelValue(s string) bool {
	if s == "" {
		return true
	}
	return isQualifiedNamePart(s)
}

func isQualifiedNamePart(s string) bool {
	if len(s) == 0 || len(s) > 63 || !isAlnumMixed(s[0]) || !isAlnumMixed(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if !isAlnumMixed(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// isQualifiedName: [prefix/]name, the prefix a DNS-1123 subdomain.
func isQualifiedName(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return isDNS1123Subdomain(s[:i]) && isQualifiedNamePart(s[i+1:])
		}
	}
	return isQualifiedNamePart(s)
}
