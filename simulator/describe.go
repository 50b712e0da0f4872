package simulator

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Describe prints one line per host: its addresses, behaviour, profile,
// authentication and anything injected, for `aadcready simulate`.
func (s *Server) Describe(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOST\tHTTP\tHTTPS\tBEHAVIOR\tPROFILE\tAUTH\tNOTES")
	for _, h := range s.hosts {
		https := h.httpsAddr
		if https == "" {
			https = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.cfg.Name, h.addr, https, h.cfg.Behavior, h.cfg.Profile, authSummary(h.cfg), notes(h.cfg))
	}
	return tw.Flush()
}

func authSummary(h *Host) string {
	auth := "NTLM"
	if h.Basic {
		auth += "+Basic"
	}
	if h.AllowUnencrypted {
		return auth + ", unencrypted allowed"
	}
	return auth + ", sealed on HTTP"
}

func notes(h *Host) string {
	var n []string
	if h.Latency > 0 {
		n = append(n, "latency "+h.Latency.String())
	}
	if h.PSRuntime > 0 {
		n = append(n, "powershell "+h.PSRuntime.String())
	}
	if len(h.Faults) > 0 {
		n = append(n, fmt.Sprintf("%d fault(s)", len(h.Faults)))
	}
	for _, p := range slices.Sorted(maps.Keys(h.FailProbes)) {
		n = append(n, "fails "+p)
	}
	if len(h.Facts) > 0 {
		n = append(n, fmt.Sprintf("%d fact override(s)", len(h.Facts)))
	}
	if h.TLSCert != TLSCertCA {
		n = append(n, "certificate "+string(h.TLSCert))
	}
	if h.NoiseOutput > 0 {
		n = append(n, fmt.Sprintf("%d bytes of noise", h.NoiseOutput))
	}
	if h.LanguageMode == "ConstrainedLanguage" {
		n = append(n, "ConstrainedLanguage")
	}
	if h.ProcessArch == arch32on64 {
		n = append(n, "32-bit PowerShell")
	}
	if k := len(h.CorruptValues) + len(h.UnreadableKeys); k > 0 {
		n = append(n, fmt.Sprintf("%d registry fault(s)", k))
	}
	if h.MaxEnvelopeKB != defaultMaxEnvelopeKB {
		n = append(n, fmt.Sprintf("envelope %d KB", h.MaxEnvelopeKB))
	}
	if len(n) == 0 {
		return "-"
	}
	return strings.Join(n, ", ")
}
