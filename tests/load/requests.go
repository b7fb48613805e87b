package main

// Provisioning and the requests the load test times.

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/vault/api"
)

// provision writes what an admin would: the policy both kinds of token get, an AppRole role with
// an unlimited secret_id, the example TEE role, and a nonce TTL long enough for a batch's evidence to be made (10m, the maximum).
func (l *loader) provision() error {
	hcl, err := os.ReadFile(l.o.policyFile)
	if err != nil {
		return err
	}
	if err := l.admin.Sys().PutPolicy(teeRole, string(hcl)); err != nil {
		return err
	}
	mounts, err := l.admin.Sys().ListAuth()
	if err != nil {
		return err
	}
	if _, ok := mounts["approle/"]; !ok {
		if err := l.admin.Sys().EnableAuthWithOptions("approle", &api.EnableAuthOptions{Type: "approle"}); err != nil {
			return err
		}
	}
	logical := l.admin.Logical()
	// The same token parameters as the TEE role, so that both create the same kind of token.
	if _, err := logical.Write("auth/approle/role/"+appRole, map[string]interface{}{
		"token_policies": []string{teeRole}, "token_ttl": "15m", "token_max_ttl": "1h",
		"secret_id_num_uses": 0, "secret_id_ttl": 0,
	}); err != nil {
		return err
	}
	s, err := logical.Read("auth/approle/role/" + appRole + "/role-id")
	if err != nil {
		return err
	}
	l.roleID, _ = s.Data["role_id"].(string)
	if s, err = logical.Write("auth/approle/role/"+appRole+"/secret-id", nil); err != nil {
		return err
	}
	l.secret, _ = s.Data["secret_id"].(string)
	if l.roleID == "" || l.secret == "" {
		return errors.New("approle: no role_id or secret_id returned")
	}

	raw, err := os.ReadFile(l.o.roleFile)
	if err != nil {
		return err
	}
	role := map[string]interface{}{}
	if err := json.Unmarshal(raw, &role); err != nil {
		return fmt.Errorf("%s: %w", l.o.roleFile, err)
	}
	if _, err := logical.Write("auth/tee/role/"+teeRole, role); err != nil {
		return err
	}
	_, err = logical.Write("auth/tee/config", map[string]interface{}{"nonce_ttl": "10m"})
	return err
}

// roleRequest sends the TEE role to path, unauthenticated, as a write to -addr, or with
// -read-addr as a GET to that standby, which answers it itself.
func (l *loader) roleRequest(path string) (*api.Secret, error) {
	if l.reader != nil {
		return l.reader.Logical().ReadWithData(path, map[string][]string{"role": {teeRole}})
	}
	return l.login.Logical().Write(path, map[string]interface{}{"role": teeRole})
}

// nonce asks for a nonce for the TEE role, as tee-login does.
func (l *loader) nonce() ([]byte, error) {
	s, err := l.roleRequest("auth/tee/nonce")
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("nonce: empty response")
	}
	h, _ := s.Data["nonce"].(string)
	return hex.DecodeString(h)
}

// noopRequest is the control of a nonce request: the same request to the no-op plugin.
func (l *loader) noopRequest() error {
	s, err := l.roleRequest("auth/noop/ping")
	if err == nil && (s == nil || s.Data["nonce"] == nil) {
		err = errors.New("noop ping: empty response")
	}
	return err
}

// nonceBurst sends n nonce requests (GET, as a standby would serve them) at concurrency c: an
// unauthenticated caller asking for as many as it can. They write nothing, so a workload logs
// in right after.
func (l *loader) nonceBurst(n, c int) (batchResult, error) {
	b := runBatch(n, c, func(int) (bool, error) {
		s, err := l.login.Logical().ReadWithData("auth/tee/nonce", map[string][]string{"role": {teeRole}})
		if err == nil && (s == nil || s.Data["nonce"] == nil) {
			err = errors.New("nonce: empty response")
		}
		return false, err
	})
	for _, err := range b.errs {
		if err != nil {
			return b, fmt.Errorf("nonce burst: %w", err)
		}
	}
	nonce, err := l.nonce()
	if err != nil {
		return b, fmt.Errorf("a nonce right after the burst: %w", err)
	}
	evidence, err := l.evidence([][]byte{nonce})
	if err != nil {
		return b, err
	}
	if err := l.teeLogin(teeRole, nonce, evidence[0]); err != nil {
		return b, fmt.Errorf("a login right after the burst: %w", err)
	}
	return b, nil
}

func (l *loader) appRoleLogin() error {
	s, err := l.login.Logical().Write("auth/approle/login", map[string]interface{}{
		"role_id": l.roleID, "secret_id": l.secret,
	})
	if err != nil {
		return err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return errors.New("approle login: no token")
	}
	return nil
}

// noopLogin logs in to the control plugin (tests/load/noopplugin) mounted at auth/noop.
func (l *loader) noopLogin() error {
	s, err := l.login.Logical().Write("auth/noop/login", map[string]interface{}{"role": "noop"})
	if err != nil {
		return err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return errors.New("noop login: no token")
	}
	return nil
}

// noopLoginWithBody logs in to the control plugin with the body of a TEE login (noop_evidence).
func (l *loader) noopLoginWithBody(nonce []byte, evidence string) error {
	s, err := l.login.Logical().Write("auth/noop/login", map[string]interface{}{
		"role": "noop", "evidence": evidence, "nonce": hex.EncodeToString(nonce),
	})
	if err != nil {
		return err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return errors.New("noop login with evidence: no token")
	}
	return nil
}

// teeLogin logs in with base64 evidence bound to nonce.
func (l *loader) teeLogin(role string, nonce []byte, evidence string) error {
	data := map[string]interface{}{"role": role, "evidence": evidence}
	if nonce != nil {
		data["nonce"] = hex.EncodeToString(nonce)
	}
	s, err := l.login.Logical().Write("auth/tee/login", data)
	if err != nil {
		return err
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return errors.New("tee login: no token")
	}
	if s.Auth.Metadata["tee"] != "tdx" {
		return fmt.Errorf("tee login: metadata tee = %q, want tdx", s.Auth.Metadata["tee"])
	}
	return nil
}

// badNonceLogin sends a login with a nonce the server never issued: the intended answer is a 403
// naming the nonce, given before the evidence is looked at.
func (l *loader) badNonceLogin() (bool, error) {
	_, err := l.login.Logical().Write("auth/tee/login", map[string]interface{}{
		"role": teeRole, "evidence": l.unboundEvidence, "nonce": hex.EncodeToString(randomNonce()),
	})
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == 403 && strings.Contains(err.Error(), "not issued by this auth method") {
		return true, nil
	}
	if err == nil {
		return false, errors.New("a login with an unknown nonce succeeded")
	}
	return false, err
}
