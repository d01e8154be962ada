package ciscoucm

import (
	"context"
	"fmt"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/provider"
)

// restartXCPAuth restarts the service IM and Presence nodes need after a
// key regeneration for Jabber OAuth logins to work.
const restartXCPAuth = "utils service restart Cisco XCP Authentication Service"

const noJWKS = "Cisco Unified CM publishes no JWKS: there is nothing to poll for the new key"

type rotateState struct {
	publisher sshTarget
	imp       []sshTarget
}

func keyWord(use provider.KeyUse) (string, error) {
	switch use {
	case provider.KeySigning, provider.KeyEncryption:
		return string(use), nil
	default:
		return "", errs.New(errs.KindUsage, "cisco-ucm: the authz key is either signing or encryption, not %q", use)
	}
}

// PlanRotate checks the SSH settings and says what regenerating the key
// does; nothing is sent.
func (p *Provider) PlanRotate(_ context.Context, use provider.KeyUse, opts provider.RotateOptions) (*provider.RotatePlan, error) {
	word, err := keyWord(use)
	if err != nil {
		return nil, err
	}
	pub, err := p.publisher()
	if err != nil {
		return nil, err
	}
	nodes, err := p.impNodes()
	if err != nil {
		return nil, err
	}
	if opts.RestartServices && len(nodes) == 0 {
		return nil, errs.New(errs.KindUsage, "cisco-ucm: restarting the Cisco XCP Authentication Service needs the IM and Presence nodes in the admin setting imp_nodes (host[:port], comma separated)")
	}
	show := "show key authz " + word
	plan := &provider.RotatePlan{
		Use:         use,
		Destructive: true,
		Calls: []provider.Call{
			{Method: "SSH", Path: pub.label() + " " + show, Purpose: "record the current key"},
			{Method: "SSH", Path: pub.label() + " set key regen authz " + word, Purpose: "regenerate the " + word + " key, answering yes to the confirmation"},
			{Method: "SSH", Path: pub.label() + " " + show, Purpose: "read the new key"},
		},
		Consequences: []string{
			"every access token " + map[string]string{"signing": "signed", "encryption": "encrypted"}[word] + " with the current " + word + " key becomes invalid at once, and so do the refresh tokens that use it",
			"every Jabber and Webex client must re-authenticate: users sign in again",
		},
		Options: opts,
		State:   &rotateState{publisher: pub, imp: nodes},
	}
	if opts.RestartServices {
		var names []string
		for _, n := range nodes {
			plan.Calls = append(plan.Calls, provider.Call{Method: "SSH", Path: n.label() + " " + restartXCPAuth, Purpose: "restart the XCP Authentication Service on this IM and Presence node"})
			names = append(names, n.addr)
		}
		plan.Consequences = append(plan.Consequences, "the Cisco XCP Authentication Service is restarted on the IM and Presence nodes "+strings.Join(names, ", ")+", as Jabber OAuth logins need")
	} else {
		plan.Consequences = append(plan.Consequences, "the Cisco XCP Authentication Service must then be restarted on every IM and Presence node for Jabber OAuth logins to work; it is not done now (ask for the service restarts and list the nodes in the admin setting imp_nodes)")
	}
	plan.Consequences = append(plan.Consequences,
		"Cisco's guide also asks for a restart of the Cisco CallManager service on all cluster nodes afterwards; this tool does not do it",
		"other clusters sharing the keys (an IM and Presence central cluster, Expressway, Unity Connection) need their keys regenerated too",
		noJWKS)
	return plan, nil
}

// Rotate regenerates the key on the publisher's CLI, reads it back, and
// restarts the XCP Authentication Service on the IM and Presence nodes
// when the plan asks for it. When the key was regenerated but a restart
// failed, the result is returned with an error of kind KindPartial.
func (p *Provider) Rotate(ctx context.Context, plan *provider.RotatePlan) (*provider.RotateResult, error) {
	if plan == nil {
		return nil, errs.New(errs.KindUsage, "cisco-ucm: no rotation plan")
	}
	st, ok := plan.State.(*rotateState)
	if !ok || st == nil {
		fresh, err := p.PlanRotate(ctx, plan.Use, plan.Options)
		if err != nil {
			return nil, err
		}
		st = fresh.State.(*rotateState)
	}
	word, err := keyWord(plan.Use)
	if err != nil {
		return nil, err
	}
	c, err := dialCLI(ctx, st.publisher)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	show := "show key authz " + word
	before, err := c.run(ctx, show)
	if err != nil {
		return nil, fmt.Errorf("reading the current key: %w", err)
	}
	warning, question, after, err := c.runConfirm(ctx, "set key regen authz "+word, "yes")
	if err != nil {
		return nil, fmt.Errorf("regenerating the %s key: %w", word, err)
	}
	// Only what follows the answer says how it went: the warning before
	// the question talks about tokens becoming invalid.
	verdictText := after
	if question == "" {
		verdictText = warning
	}
	if loc := cliFailure().FindStringIndex(verdictText); loc != nil {
		return nil, errs.New(errs.KindRefused, "cisco-ucm: the CLI on %s did not regenerate the %s key: %s", st.publisher.addr, word, strings.Join(cleanLines(verdictText), " / "))
	}
	succeeded := cliSuccess().MatchString(verdictText)
	now, err := c.run(ctx, show)
	if err != nil {
		return nil, fmt.Errorf("reading the new key (it was regenerated): %w", err)
	}
	changed := strings.TrimSpace(now) != strings.TrimSpace(before)
	if !succeeded && !changed {
		return nil, errs.New(errs.KindUnknown, "cisco-ucm: cannot tell whether the %s key was regenerated: the CLI said %q and %q shows the same key as before", word, strings.Join(cleanLines(verdictText), " / "), show)
	}
	res := &provider.RotateResult{NewKID: parseKeyID(now)}
	if old := parseKeyID(before); old != "" && old != res.NewKID {
		res.Retired = []string{old}
	}
	res.Notes = append(res.Notes, "regenerated the "+word+" key on "+st.publisher.addr)
	if lines := cleanLines(verdictText); len(lines) > 0 {
		res.Notes = append(res.Notes, "CLI: "+strings.Join(lines, " / "))
	}
	if !changed {
		res.Notes = append(res.Notes, "'"+show+"' prints the same as before the regeneration")
	}
	for _, l := range cleanLines(before) {
		res.Notes = append(res.Notes, "before: "+l)
	}
	for _, l := range cleanLines(now) {
		res.Notes = append(res.Notes, "after: "+l)
	}
	res.Notes = append(res.Notes, noJWKS)
	c.Close()

	if !plan.Options.RestartServices {
		res.Notes = append(res.Notes, "restart the Cisco XCP Authentication Service on every IM and Presence node now ("+restartXCPAuth+"), and the Cisco CallManager service on all nodes as Cisco's guide asks")
		return res, nil
	}
	var failed []string
	for _, n := range st.imp {
		line, err := restartNode(ctx, n)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", n.addr, err))
			res.Notes = append(res.Notes, "XCP Authentication Service NOT restarted on "+n.addr)
			continue
		}
		res.Notes = append(res.Notes, "XCP Authentication Service restarted on "+n.addr+line)
	}
	res.Notes = append(res.Notes, "restart the Cisco CallManager service on all nodes as Cisco's guide asks; this tool does not")
	if len(failed) > 0 {
		return res, errs.New(errs.KindPartial, "cisco-ucm: the %s key was regenerated, but the XCP Authentication Service restart failed on %d of %d IM and Presence nodes: %s", word, len(failed), len(st.imp), strings.Join(failed, "; "))
	}
	return res, nil
}

// restartNode restarts the XCP Authentication Service on one IM and
// Presence node and returns a short summary of what the CLI said.
func restartNode(ctx context.Context, t sshTarget) (string, error) {
	c, err := dialCLI(ctx, t)
	if err != nil {
		return "", err
	}
	defer c.Close()
	warning, question, after, err := c.runConfirm(ctx, restartXCPAuth, "yes")
	if err != nil {
		return "", err
	}
	out := after
	if question == "" {
		out = warning
	}
	// The restart notice itself ("Do not press Ctrl+C ... has not
	// restarted properly") is not a failure.
	verdict := strings.Join(filterNotice(out), "\n")
	if cliFailure().MatchString(verdict) {
		return "", errs.New(errs.KindRefused, "the CLI said: %s", strings.Join(cleanLines(verdict), " / "))
	}
	lines := cleanLines(out)
	if len(lines) == 0 {
		return "", nil
	}
	return " (" + lines[len(lines)-1] + ")", nil
}

func filterNotice(out string) []string {
	var kept []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(strings.ToLower(l), "ctrl+c") || strings.Contains(strings.ToLower(l), "not restarted properly") {
			continue
		}
		kept = append(kept, l)
	}
	return kept
}

// ListKeys reads both authz keys from the publisher's CLI. The output
// format is not documented: the key id is taken from a labelled line, and
// the first line of output stands in when there is none.
func (p *Provider) ListKeys(ctx context.Context) ([]provider.Key, error) {
	pub, err := p.publisher()
	if err != nil {
		return nil, err
	}
	c, err := dialCLI(ctx, pub)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var keys []provider.Key
	for _, u := range []struct {
		word, use string
	}{{"signing", "sig"}, {"encryption", "enc"}} {
		out, err := c.run(ctx, "show key authz "+u.word)
		if err != nil {
			return nil, fmt.Errorf("reading the %s key: %w", u.word, err)
		}
		if cliFailure().MatchString(out) {
			return nil, errs.New(errs.KindRefused, "cisco-ucm: 'show key authz %s' failed: %s", u.word, strings.Join(cleanLines(out), " / "))
		}
		kid := parseKeyID(out)
		if kid == "" {
			if lines := cleanLines(out); len(lines) > 0 {
				kid = lines[0]
			}
		}
		keys = append(keys, provider.Key{KID: kid, Use: u.use, Status: "active"})
	}
	return keys, nil
}
