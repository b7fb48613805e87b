package teeauth

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/vault/sdk/framework"
	pb "github.com/vault-plugin-auth-tee/plugin_shim/gen/teeverifyv1"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The role fields that form its policy are derived from the teeverify.v1.Policy message, so the
// shim cannot drift from the API the sidecar evaluates: "tdx.mrtd" becomes "tdx_mrtd",
// "sev_snp.min_reported_tcb.tee" becomes "sev_snp_min_reported_tcb_tee". The shim only moves
// values between the request and the message; the sidecar validates them (ValidatePolicy).

type policyField struct {
	name string
	path []protoreflect.FieldDescriptor // from Policy down to the field
}

var topLevelDescriptions = map[string]string{
	"tee_types":                          "TEE types the role admits: tdx, sev-snp, nitro, az-snp-vtpm, az-tdx-vtpm. Required.",
	"allowed_tcb_statuses":               "TDX TCB statuses admitted (default: UpToDate).",
	"allow_debug":                        "Admit debug TDs, debug-policy SNP guests and debug-mode enclaves (default: false).",
	"max_evidence_age_seconds":           "Nitro: how old the attestation document may be (default: 300).",
	"allow_unbound_evidence":             "Admit evidence that does not carry the login nonce. Only for replaying recorded evidence in demos and tests.",
	"tcb_grace_period":                   "TDX, seconds: admit an OutOfDate platform until this long after tdx.tcb_out_of_date_since (docs/tcb-recovery.md); default 0, no grace.",
	"min_tcb_evaluation_data_number":     "TDX: minimum tcbEvaluationDataNumber of the TCB info and QE identity.",
	"max_collateral_age":                 "TDX, seconds: TCB info and QE identity issueDate and PCK CRL thisUpdate at most this old; default 0, unbounded.",
	"rejected_advisory_ids":              "TDX: Intel advisory IDs (INTEL-SA-...) refused outright, also within the grace period.",
	"allow_weak_image_anchor":            "DANGEROUS: admit a TEE although the role does not pin its image (docs/policy.md, Image anchors); shown on every token as weak_image_anchor.",
	"sev_snp_allow_migrate_ma":           "SEV-SNP: admit guests whose policy allows a migration agent (MIGRATE_MA; default: refused).",
	"sev_snp_allow_cxl":                  "SEV-SNP: admit guests whose policy allows CXL-attached memory (CXL_ALLOW; default: refused).",
	"sev_snp_allow_provisional_firmware": "SEV-SNP: admit a CURRENT_TCB or firmware version above the committed one (default: refused).",
	"sev_snp_min_firmware":               "SEV-SNP: minimum committed firmware version, major.minor or major.minor.build.",
	"sev_snp_max_vmpl":                   "SEV-SNP: most privileged VMPL admitted (default: 0).",
	"tdx_attributes":                     "TDX: TD_ATTRIBUTES value (16 hex digits, as in the quote), with tdx_attributes_mask; default requires SEPT_VE_DISABLE and refuses MIGRATABLE and PERFMON.",
	"tdx_attributes_mask":                "TDX: TD_ATTRIBUTES bits compared with tdx_attributes (16 hex digits).",
	"tdx_xfam":                           "TDX: XFAM value (16 hex digits, as in the quote), with tdx_xfam_mask.",
	"tdx_xfam_mask":                      "TDX: XFAM bits compared with tdx_xfam (16 hex digits).",
	"tdx_min_tee_tcb_svn":                "TDX: minimum TEE_TCB_SVN, each of its 16 bytes (32 hex digits).",
	"max_certificate_age_seconds":        "Attested TLS client certificate logins: how long after its notBefore a certificate is accepted (default: 600, at most 86400).",
}

var policyFields = derivePolicyFields()

func derivePolicyFields() []policyField {
	var out []policyField
	var walk func(prefix string, path []protoreflect.FieldDescriptor, md protoreflect.MessageDescriptor)
	walk = func(prefix string, path []protoreflect.FieldDescriptor, md protoreflect.MessageDescriptor) {
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			f := fields.Get(i)
			name := string(f.Name())
			if prefix != "" {
				name = prefix + "_" + name
			}
			p := append(append([]protoreflect.FieldDescriptor{}, path...), f)
			if f.Kind() == protoreflect.MessageKind && !f.IsList() {
				walk(name, p, f.Message())
				continue
			}
			out = append(out, policyField{name: name, path: p})
		}
	}
	walk("", nil, (&pb.Policy{}).ProtoReflect().Descriptor())
	return out
}

func (f policyField) leaf() protoreflect.FieldDescriptor { return f.path[len(f.path)-1] }

func (f policyField) claim() string {
	parts := make([]string, len(f.path))
	for i, d := range f.path {
		parts[i] = string(d.Name())
	}
	return strings.Join(parts, ".")
}

// policyFieldSchemas are the role path's policy fields.
func policyFieldSchemas() map[string]*framework.FieldSchema {
	out := map[string]*framework.FieldSchema{}
	for _, f := range policyFields {
		leaf := f.leaf()
		schema := &framework.FieldSchema{Description: topLevelDescriptions[f.name]}
		switch {
		case leaf.IsList():
			schema.Type = framework.TypeCommaStringSlice
			if schema.Description == "" {
				schema.Description = fmt.Sprintf("Values admitted for the claim %s (hex; any of them).", f.claim())
			}
		case leaf.Kind() == protoreflect.BoolKind:
			schema.Type = framework.TypeBool
		case leaf.Kind() == protoreflect.StringKind:
			schema.Type = framework.TypeString
			if schema.Description == "" {
				schema.Description = fmt.Sprintf("Constraint on the claim %s (see docs/policy.md).", f.claim())
			}
		default:
			schema.Type = framework.TypeInt
			if schema.Description == "" {
				schema.Description = fmt.Sprintf("Bound on the claim %s.", f.claim())
			}
		}
		out[f.name] = schema
	}
	return out
}

// setPolicyField writes a request value into the policy message.
func setPolicyField(policy *pb.Policy, f policyField, value interface{}) error {
	msg := policy.ProtoReflect()
	for _, d := range f.path[:len(f.path)-1] {
		msg = msg.Mutable(d).Message()
	}
	leaf := f.leaf()
	switch {
	case leaf.IsList():
		list := msg.NewField(leaf).List()
		for _, v := range value.([]string) {
			if v = strings.TrimSpace(v); v != "" {
				list.Append(protoreflect.ValueOfString(v))
			}
		}
		msg.Set(leaf, protoreflect.ValueOfList(list))
	case leaf.Kind() == protoreflect.BoolKind:
		msg.Set(leaf, protoreflect.ValueOfBool(value.(bool)))
	case leaf.Kind() == protoreflect.StringKind:
		// An empty string leaves an optional field unset (as an omitted field would).
		if v := strings.TrimSpace(value.(string)); v != "" {
			msg.Set(leaf, protoreflect.ValueOfString(v))
		} else {
			msg.Clear(leaf)
		}
	case leaf.Kind() == protoreflect.Uint32Kind:
		n := value.(int)
		if n < 0 || n > 1<<32-1 {
			return fmt.Errorf("%s: %d is out of range", f.name, n)
		}
		msg.Set(leaf, protoreflect.ValueOfUint32(uint32(n)))
	case leaf.Kind() == protoreflect.Int64Kind:
		msg.Set(leaf, protoreflect.ValueOfInt64(int64(value.(int))))
	default:
		return fmt.Errorf("%s: unsupported field kind %s", f.name, leaf.Kind())
	}
	return nil
}

// policyToData renders a (normalized) policy as role fields for a read.
func policyToData(policy *pb.Policy, data map[string]interface{}) {
	for _, f := range policyFields {
		// An unset message reads as an empty one: its lists are empty, its fields unset.
		msg := policy.ProtoReflect()
		for _, d := range f.path[:len(f.path)-1] {
			msg = msg.Get(d).Message()
		}
		leaf := f.leaf()
		switch {
		case leaf.IsList():
			values := []string{}
			list := msg.Get(leaf).List()
			for i := 0; i < list.Len(); i++ {
				values = append(values, list.Get(i).String())
			}
			data[f.name] = values
		case leaf.Kind() == protoreflect.BoolKind:
			data[f.name] = msg.Get(leaf).Bool()
		case msg.Has(leaf):
			switch leaf.Kind() {
			case protoreflect.Uint32Kind:
				data[f.name] = msg.Get(leaf).Uint()
			case protoreflect.StringKind:
				data[f.name] = msg.Get(leaf).String()
			default:
				data[f.name] = msg.Get(leaf).Int()
			}
		}
	}
}

func policyFieldNames() []string {
	names := make([]string, 0, len(policyFields))
	for _, f := range policyFields {
		names = append(names, f.name)
	}
	sort.Strings(names)
	return names
}
