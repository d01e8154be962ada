package config

import "testing"

func TestDPoPPARAndRequestObjectsTurnOnFromTheFileTheEnvironmentOrAFlag(t *testing.T) {
	file := func(p Profile) *Config { return &Config{CurrentProfile: "p", Profiles: map[string]*Profile{"p": &p}} }
	cases := []struct {
		name           string
		cfg            *Config
		env            map[string]string
		o              Overrides
		dpop, par, jar bool
	}{
		{"nothing", file(Profile{}), nil, Overrides{}, false, false, false},
		{"the profile", file(Profile{DPoP: true, PAR: true, RequestObject: true}), nil, Overrides{}, true, true, true},
		{"IDPCTL_DPOP=1", file(Profile{}), map[string]string{"IDPCTL_DPOP": "1"}, Overrides{}, true, false, false},
		{"IDPCTL_DPOP=false", file(Profile{}), map[string]string{"IDPCTL_DPOP": "false"}, Overrides{}, false, false, false},
		{"flags", file(Profile{}), nil, Overrides{DPoP: true, PAR: true, RequestObject: true}, true, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Resolve(tc.cfg, envOf(tc.env), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if r.DPoP != tc.dpop || r.PAR != tc.par || r.RequestObject != tc.jar {
				t.Fatalf("dpop %v par %v request_object %v", r.DPoP, r.PAR, r.RequestObject)
			}
		})
	}
	c, err := Parse([]byte("profiles:\n  p:\n    dpop: true\n    dpop_alg: ES384\n    par: true\n    request_object: true\n"), "config.yaml")
	if err != nil || !c.Profiles["p"].DPoP || c.Profiles["p"].DPoPAlg != "ES384" || !c.Profiles["p"].PAR || !c.Profiles["p"].RequestObject {
		t.Fatalf("parse: %+v %v", c.Profiles["p"], err)
	}
}
