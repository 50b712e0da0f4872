package discover

import (
	"regexp"
	"strings"
)

// Wording is what the description of an MSOL_ connector account says about
// the server that created it.
type Wording struct {
	Product        string `json:"product,omitempty"`         // "Microsoft Azure Active Directory Connect", "Microsoft Entra Connect"
	InstallationID string `json:"installation_id,omitempty"` // 32 hex digits
	Computer       string `json:"computer"`                  // the server's name as written (usually its NetBIOS name)
	Tenant         string `json:"tenant,omitempty"`          // e.g. contoso.onmicrosoft.com
}

// The English description written by every default installation
// (docs/discover.md, from the reference's §9 "Finding AD Connect servers
// from Active Directory"):
//
//	Account created by Microsoft Azure Active Directory Connect with
//	installation identifier <32 hex> running on computer <NAME> configured to
//	synchronize to tenant <tenant>.onmicrosoft.com. This account must ...
//
// Seen variants: identifier and computer name in single quotes, "Microsoft
// Entra Connect" for the product. Each part is matched on its own, so a
// variant that drops or reorders one part still yields the computer name.
var (
	productRE  = regexp.MustCompile(`(?i)\bAccount created by\s+(.+?)\s+with installation identifier\b`)
	installRE  = regexp.MustCompile(`(?i)\binstallation identifier\s+'?([0-9a-f]{32})'?`)
	computerRE = regexp.MustCompile(`(?i)\brunning on computer\s+'([^']+)'|\brunning on computer\s+([^\s']+)`)
	tenantRE   = regexp.MustCompile(`(?i)\bto synchronize to tenant\s+'?([A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9])'?`)
)

// ParseDescription reads the server name (and product, installation
// identifier and tenant, where present) from a connector account's
// description. ok is false when the text does not name a computer: a
// localised description, or one someone rewrote.
func ParseDescription(desc string) (w Wording, ok bool) {
	desc = strings.Join(strings.Fields(desc), " ") // descriptions wrap lines in some tools
	m := computerRE.FindStringSubmatch(desc)
	if m == nil {
		return Wording{}, false
	}
	w.Computer = strings.TrimRight(m[1]+m[2], ".,;")
	if !validComputer(w.Computer) {
		return Wording{}, false
	}
	if m := productRE.FindStringSubmatch(desc); m != nil {
		w.Product = m[1]
	}
	if m := installRE.FindStringSubmatch(desc); m != nil {
		w.InstallationID = strings.ToLower(m[1])
	}
	if m := tenantRE.FindStringSubmatch(desc); m != nil {
		w.Tenant = strings.ToLower(m[1])
	}
	return w, true
}

// validComputer accepts what a Windows computer name or DNS host name can
// be; anything else in that place is not a name this tool should act on.
func validComputer(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		switch {
		case r == '-' || r == '.' || r == '_':
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		default:
			return false
		}
	}
	return true
}
