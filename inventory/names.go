package inventory

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf16"

	"aadcready/safefile"
	"aadcready/yamlloc"
)

// maxNameLen is the longest DNS name (RFC 1035).
const maxNameLen = 253

// validateName accepts a DNS name, a NetBIOS-style short name or an IP
// address, and explains the usual mistakes: a URL, host:port, or two names
// on one line.
func validateName(name string) error {
	if name == "" {
		return errors.New("is empty")
	}
	if strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		return errors.New("contains a space; give one host name per entry")
	}
	if strings.Contains(name, "://") {
		return errors.New("is a URL; give the bare host name and set scheme and port separately")
	}
	if addr, err := netip.ParseAddr(name); err == nil {
		return checkZone(addr.Zone())
	}
	if strings.Contains(name, ":") {
		return errors.New("is not a host name or IP address; if it is host:port, give the port separately")
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("is longer than %d characters", maxNameLen)
	}
	if name[0] == '-' || name[0] == '.' {
		return errors.New("must start with a letter or digit")
	}
	for _, r := range name {
		// "_" is not valid DNS, but Windows allows it in computer names.
		if !(r == '-' || r == '.' || r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return fmt.Errorf("is not a host name or IP address (%q is not allowed)", r)
		}
	}
	return nil
}

// checkZone accepts the zone of an IPv6 address (fe80::1%eth0, fe80::1%12):
// an interface name or index. Anything else (markup, escapes, ../) would
// reach URLs, logs and reports.
func checkZone(zone string) error {
	if len(zone) > 64 {
		return errors.New("has an IPv6 zone (after %) longer than 64 characters")
	}
	for _, r := range zone {
		if !(r == '-' || r == '.' || r == '_' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return fmt.Errorf("has an IPv6 zone (after %%) that is not an interface name or number (%q is not allowed)", r)
		}
	}
	return nil
}

// sameHostNote ends a duplicate's message.
const sameHostNote = "(names are compared without regard to case, addresses in canonical form)"

// hostKey is what two names must share to be the same host: DNS and Windows
// names ignore case, and a trailing dot only marks a name as fully
// qualified; an IP address is compared in canonical form (::1 and
// 0:0:0:0:0:0:0:1, ::ffff:10.0.0.1 and 10.0.0.1 are one host).
func hostKey(name string) string {
	if addr, err := netip.ParseAddr(name); err == nil {
		return addr.Unmap().String()
	}
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// FromNames builds an inventory from bare host names (--hosts, or a hosts
// file read with ReadHostsFile), each with the settings of defaults.
// defaults.Name is ignored; defaults.Source is copied to every host, so the
// caller can say where the names came from. Zero settings get the same
// defaults as in a file (http, ntlm, port by scheme). All problems are
// reported at once.
func FromNames(names []string, defaults Host) (*Inventory, error) {
	if len(names) == 0 {
		return nil, errors.New("no hosts given")
	}
	d := defaults
	// Same spelling rules as in a file, and before applyDefaults, which
	// picks the port from the scheme.
	d.Scheme, d.Auth = strings.ToLower(d.Scheme), strings.ToLower(d.Auth)
	applyDefaults(&d)
	var errs []error
	ps := checkValues(&d)
	if len(ps) == 0 {
		ps = checkHost(&d, func(string) bool { return false })
	}
	if d.Address != "" {
		ps = append(ps, problem{"address", "cannot be shared by several hosts; give each host its own address in an inventory file"})
	}
	for _, p := range ps {
		errs = append(errs, fmt.Errorf("host settings: %s: %s", p.field, p.msg))
	}

	first := make(map[string]string, len(names))
	for _, name := range names {
		if err := validateName(name); err != nil {
			errs = append(errs, fmt.Errorf("host %s: name: %w", yamlloc.Quote(name), err))
			continue
		}
		key := hostKey(name)
		if prev, dup := first[key]; dup {
			errs = append(errs, fmt.Errorf("host %q: name: duplicate of %q %s", name, prev, sameHostNote))
			continue
		}
		first[key] = name
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	inv := &Inventory{Hosts: make([]Host, 0, len(names))}
	for _, name := range names {
		h := d.clone()
		h.Name = name
		inv.Hosts = append(inv.Hosts, h)
	}
	return inv, nil
}

// ReadHostsFile reads host names, one per line. Blank lines and everything
// after a "#" are ignored. Files as Windows tools write them are accepted:
// CRLF line ends, UTF-8 with a byte-order mark (Notepad), UTF-16 (Windows
// PowerShell's ">" and Out-File). Every bad or repeated name is reported as
// file:line.
func ReadHostsFile(path string) ([]string, error) {
	return ReadHostsFileContext(context.Background(), path)
}

// ReadHostsFileContext is ReadHostsFile reading under ctx. The file must
// be a regular file of at most safefile.MaxInventory bytes.
func ReadHostsFileContext(ctx context.Context, path string) ([]string, error) {
	data, err := safefile.Read(ctx, path, safefile.MaxInventory)
	if err != nil {
		return nil, err
	}
	var names []string
	errs := yamlloc.List{File: path}
	firstLine := map[string]int{}
	for i, line := range strings.Split(decodeText(data), "\n") {
		lineNo := i + 1
		if before, _, found := strings.Cut(line, "#"); found {
			line = before
		}
		name := strings.TrimSpace(line)
		if name == "" {
			continue
		}
		if err := validateName(name); err != nil {
			errs.Add(lineNo, "", "", yamlloc.Quote(name)+" "+err.Error())
			continue
		}
		key := hostKey(name)
		if prev, dup := firstLine[key]; dup {
			errs.Add(lineNo, "", "", fmt.Sprintf("%q is already listed at line %d %s", name, prev, sameHostNote))
			continue
		}
		firstLine[key] = lineNo
		names = append(names, name)
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no host names (only blank lines and comments)", path)
	}
	return names, nil
}

// decodeText returns data as UTF-8, decoding UTF-16 when a byte-order mark
// says so and dropping a UTF-8 one.
func decodeText(data []byte) string {
	var order binary.ByteOrder
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		order = binary.LittleEndian
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		order = binary.BigEndian
	default:
		return strings.TrimPrefix(string(data), "\uFEFF")
	}
	units := make([]uint16, (len(data)-2)/2)
	for i := range units {
		units[i] = order.Uint16(data[2+2*i:])
	}
	return string(utf16.Decode(units))
}
