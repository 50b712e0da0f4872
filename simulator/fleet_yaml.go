package simulator

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The fleet file format (docs/simulator.md). Decoding is strict: an unknown
// field is an error, reported with the file, line, host and field.
type fleetSpec struct {
	AddressBase string     `yaml:"address_base"`
	Users       []userSpec `yaml:"users"`
	Hosts       []hostSpec `yaml:"hosts"`
}

type userSpec struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

type hostSpec struct {
	Name             string            `yaml:"name"`
	Count            int               `yaml:"count"`
	Address          string            `yaml:"address"`
	Port             *int              `yaml:"port"`
	HTTPSPort        *int              `yaml:"https_port"`
	TLSCert          string            `yaml:"tls_cert"`
	Users            []userSpec        `yaml:"users"`
	AllowUnencrypted bool              `yaml:"allow_unencrypted"`
	Basic            bool              `yaml:"basic"`
	MaxEnvelopeKB    int               `yaml:"max_envelope_kb"`
	MaxShellsPerUser int               `yaml:"max_shells_per_user"`
	MaxTimeoutMS     int               `yaml:"max_timeout_ms"`
	Behavior         string            `yaml:"behavior"`
	Latency          duration          `yaml:"latency"`
	PSRuntime        duration          `yaml:"ps_runtime"`
	Faults           []faultSpec       `yaml:"faults"`
	Profile          string            `yaml:"profile"`
	Facts            factSpecs         `yaml:"facts"`
	FailProbes       map[string]string `yaml:"fail_probes"`
	OmitProbes       []string          `yaml:"omit_probes"`
	TruncateOutput   int               `yaml:"truncate_output"`
	HangAfterProbe   string            `yaml:"hang_after_probe"`
	NoiseOutput      int               `yaml:"noise_output"`
	LanguageMode     string            `yaml:"language_mode"`
	CorruptValues    []regValueSpec    `yaml:"corrupt_values"`
	UnreadableKeys   []string          `yaml:"unreadable_keys"`
	ProcessArch      string            `yaml:"process_arch"`
}

type regValueSpec struct {
	Key   string `yaml:"key"`
	Value string `yaml:"value"`
}

type faultSpec struct {
	Op         string `yaml:"op"`
	Code       uint32 `yaml:"code"`
	Times      int    `yaml:"times"`
	HTTPStatus int    `yaml:"http_status"`
	Reset      bool   `yaml:"reset"`
	Vanish     bool   `yaml:"vanish"`
}

// defaultPort is the port of Enable-PSRemoting's HTTP listener.
const defaultPort = 5985

// LoadFleet reads and validates a fleet file.
func LoadFleet(path string) (*Fleet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseFleet(path, data)
}

// ParseFleet decodes and validates a fleet file's contents; name is used in
// error messages.
func ParseFleet(name string, data []byte) (*Fleet, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, syntaxError(name, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty fleet file", name)
	}
	l := newLayout(root.Content[0])
	var spec fleetSpec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&spec); err != nil {
		return nil, l.typeErrors(name, err)
	}
	if len(spec.Hosts) == 0 {
		return nil, &FieldError{Source: name, Line: l.topLine("hosts"), Index: -1, Field: "hosts", Msg: "no hosts"}
	}
	f, origin, err := spec.fleet(name)
	if err == nil {
		err = f.resolve()
	}
	if err != nil {
		return nil, l.placeFieldErrors(err, origin)
	}
	return f, nil
}

// fleet expands the spec into hosts; origin[i] is the spec entry host i
// came from (count makes several).
func (s *fleetSpec) fleet(name string) (*Fleet, []int, error) {
	f := &Fleet{Source: name, AddressBase: s.AddressBase}
	var origin []int
	var errs []error
	for i, hs := range s.Hosts {
		names, addrs, err := hs.expand()
		if err != nil {
			errs = append(errs, &FieldError{Source: name, Host: hs.Name, Index: i, Field: err.field, Msg: err.msg})
			continue
		}
		for j := range names {
			h := hs.host(s.Users)
			h.Name, h.Address = names[j], addrs[j]
			f.Hosts = append(f.Hosts, h)
			origin = append(origin, i)
		}
	}
	if len(errs) > 0 {
		// Host indexes in these errors are spec indexes already.
		return nil, nil, errors.Join(errs...)
	}
	return f, origin, nil
}

var nameVerb = regexp.MustCompile(`%0?\d*d`)

// expand applies count: a name pattern with one %d verb, and an optional
// first address that the following hosts count up from.
func (hs *hostSpec) expand() (names, addrs []string, _ *problem) {
	if hs.Count <= 1 {
		if hs.Count < 0 {
			return nil, nil, &problem{"count", fmt.Sprintf("%d: must be 1 or more", hs.Count)}
		}
		return []string{hs.Name}, []string{hs.Address}, nil
	}
	if len(nameVerb.FindAllString(hs.Name, -1)) != 1 || strings.Count(hs.Name, "%") != 1 {
		return nil, nil, &problem{"name", fmt.Sprintf("with count %d the name needs one %%d verb, e.g. %q", hs.Count, "aadc-%03d")}
	}
	next, err := firstAddress(hs.Address)
	if err != nil {
		return nil, nil, &problem{"address", err.Error()}
	}
	for i := 1; i <= hs.Count; i++ {
		names = append(names, fmt.Sprintf(hs.Name, i))
		if next.IsValid() {
			for !usable(next) {
				next = next.Next()
			}
			addrs = append(addrs, next.String())
			next = next.Next()
		} else {
			addrs = append(addrs, "")
		}
	}
	return names, addrs, nil
}

func (hs *hostSpec) host(fleetUsers []userSpec) Host {
	users := hs.Users
	if users == nil {
		users = fleetUsers
	}
	h := Host{
		Port:             defaultPort,
		AllowUnencrypted: hs.AllowUnencrypted,
		Basic:            hs.Basic,
		MaxEnvelopeKB:    hs.MaxEnvelopeKB,
		MaxShellsPerUser: hs.MaxShellsPerUser,
		MaxTimeoutMS:     hs.MaxTimeoutMS,
		Behavior:         Behavior(hs.Behavior),
		Latency:          time.Duration(hs.Latency),
		PSRuntime:        time.Duration(hs.PSRuntime),
		Profile:          hs.Profile,
		Facts:            hs.Facts,
		FailProbes:       hs.FailProbes,
		OmitProbes:       hs.OmitProbes,
		TruncateOutput:   hs.TruncateOutput,
		HangAfterProbe:   hs.HangAfterProbe,
		NoiseOutput:      hs.NoiseOutput,
		LanguageMode:     hs.LanguageMode,
		TLSCert:          TLSCert(hs.TLSCert),
		UnreadableKeys:   hs.UnreadableKeys,
		ProcessArch:      hs.ProcessArch,
	}
	for _, cv := range hs.CorruptValues {
		h.CorruptValues = append(h.CorruptValues, RegValue{Key: cv.Key, Value: cv.Value})
	}
	if hs.Port != nil {
		h.Port = *hs.Port
	}
	if hs.HTTPSPort != nil {
		h.HTTPS, h.HTTPSPort = true, *hs.HTTPSPort
	}
	for _, u := range users {
		h.Users = append(h.Users, User{Name: u.Username, Password: u.Password})
	}
	for _, fs := range hs.Faults {
		h.Faults = append(h.Faults, Fault{Op: Op(fs.Op), Code: fs.Code, Times: fs.Times, HTTPStatus: fs.HTTPStatus, Reset: fs.Reset, Vanish: fs.Vanish})
	}
	return h
}

// duration is a time.Duration written as Go writes one: 250ms, 2s, 1m30s.
type duration time.Duration

func (d *duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration (write e.g. 250ms, 2s, 1m)", n.Line, n.Value)}}
	}
	*d = duration(v)
	return nil
}
