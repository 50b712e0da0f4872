//go:build linux

package sambadc

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// The fixture directory: what each test may expect to discover.
//
//	account             description                       computer   state
//	MSOL_a1b2c3d4e5f6   Azure AD Connect, unquoted        AADC01     active, tenant contoso
//	MSOL_0f1e2d3c4b5a   Entra Connect, quoted             AADC02     active, tenant contoso (staging pair), OU tree Tier0
//	MSOL_5a5a5a5a5a5a   Azure AD Connect, quoted          OLDSYNC01  stale: no computer object
//	MSOL_6b6b6b6b6b6b   Entra Connect, unquoted           AADC03     stale: computer disabled
//	MSOL_7c7c7c7c7c7c   Azure AD Connect                  AADC04     stale: last logon 200 days ago
//	MSOL_8d8d8d8d8d8d   German (localised)                -          reported, no server
//	MSOL_9e9e9e9e9e9e   Entra Connect, in OU Subsidiary   FABSYNC01  active, tenant fabrikam
//	MSOL_1f1f1f1f1f1f   Entra Connect                     NEWSYNC01  active: created today, no logon yet
//	MSOL_2e2e2e2e2e2e   terminal escapes in the name      -          reported (Hostile), no server
//
// plus BulkUsers ordinary users in OU=Bulk (paging: more than one page of
// 1,000) and the computer objects in CN=Computers and OU=Servers,OU=Tier0.
const BulkUsers = 1200

// Fixture servers, by expected state.
var (
	ActiveServers = []string{"aadc01.aadc.test", "aadc02.aadc.test", "fabsync01.sub.aadc.test", "newsync01.aadc.test"}
	StaleServers  = map[string]string{"OLDSYNC01": "computer object not found", "AADC03": "computer account disabled", "AADC04": "computer has not logged on for 200 days"}
	Localised     = "MSOL_8d8d8d8d8d8d"
	Hostile       = "MSOL_2e2e2e2e2e2e"
)

// Fixture returns the LDIF of the fixture directory, with logon times
// relative to now.
func Fixture(now time.Time) string {
	var b strings.Builder
	entry := func(dn string, attrs ...string) {
		fmt.Fprintf(&b, "dn: %s\n", dn)
		for _, a := range attrs {
			b.WriteString(a + "\n")
		}
		b.WriteString("\n")
	}
	ou := func(dn string) { entry(dn, "objectClass: organizationalUnit") }
	msol := func(container, id, desc string) {
		entry("CN=MSOL_"+id+","+container+","+BaseDN, "objectClass: user", "sAMAccountName: MSOL_"+id,
			"userAccountControl: 66048", "description: "+desc)
	}
	computer := func(container, name, dns string, uac int, lastLogon time.Time) {
		attrs := []string{"objectClass: computer", "sAMAccountName: " + name + "$", fmt.Sprintf("userAccountControl: %d", uac),
			"dNSHostName: " + dns, "operatingSystem: Windows Server 2019 Datacenter", "operatingSystemVersion: 10.0 (17763)"}
		if !lastLogon.IsZero() {
			attrs = append(attrs, fmt.Sprintf("lastLogonTimestamp: %d", FileTime(lastLogon)))
		}
		entry("CN="+name+","+container+","+BaseDN, attrs...)
	}
	const tail = ". This account must have directory replication permissions in the local Active Directory and write permission on certain attributes to enable Hybrid Deployment."
	day := 24 * time.Hour

	ou("OU=Tier0," + BaseDN)
	ou("OU=Servers,OU=Tier0," + BaseDN)
	ou("OU=Subsidiary," + BaseDN)
	ou("OU=Bulk," + BaseDN)

	msol("CN=Users", "a1b2c3d4e5f6", "Account created by Microsoft Azure Active Directory Connect with installation identifier 6f1c0e3a9b2d4c8e8a7b6c5d4e3f2a1b running on computer AADC01 configured to synchronize to tenant contoso.onmicrosoft.com"+tail)
	msol("CN=Users", "0f1e2d3c4b5a", "Account created by Microsoft Entra Connect with installation identifier '0a1b2c3d4e5f60718293a4b5c6d7e8f9' running on computer 'AADC02' configured to synchronize to tenant 'contoso.onmicrosoft.com'"+tail)
	msol("CN=Users", "5a5a5a5a5a5a", "Account created by Microsoft Azure Active Directory Connect with installation identifier '11111111222233334444555566667777' running on computer 'OLDSYNC01' configured to synchronize to tenant contoso.onmicrosoft.com"+tail)
	msol("CN=Users", "6b6b6b6b6b6b", "Account created by Microsoft Entra Connect with installation identifier 22222222333344445555666677778888 running on computer AADC03 configured to synchronize to tenant contoso.onmicrosoft.com"+tail)
	msol("CN=Users", "7c7c7c7c7c7c", "Account created by Microsoft Azure Active Directory Connect with installation identifier 33333333444455556666777788889999 running on computer AADC04 configured to synchronize to tenant litware.onmicrosoft.com"+tail)
	msol("CN=Users", "8d8d8d8d8d8d", "Von Microsoft Azure Active Directory Connect erstelltes Konto mit der Installationskennung 44444444555566667777888899990000, das für die Synchronisierung mit dem Mandanten konfiguriert ist.")
	msol("OU=Subsidiary", "9e9e9e9e9e9e", "Account created by Microsoft Entra Connect with installation identifier '55555555666677778888999900001111' running on computer 'FABSYNC01' configured to synchronize to tenant 'fabrikam.onmicrosoft.com'"+tail)

	msol("CN=Users", "1f1f1f1f1f1f", "Account created by Microsoft Entra Connect with installation identifier 66666666777788889999000011112222 running on computer NEWSYNC01 configured to synchronize to tenant northwind.onmicrosoft.com"+tail)
	hostile := "\x1b[2J\x1b[31mAccount created by Microsoft Entra Connect running on computer EVIL\x1b]0;owned\x07 configured to synchronize to tenant =cmd|' /C calc'!A0"
	entry("CN="+Hostile+",CN=Users,"+BaseDN, "objectClass: user", "sAMAccountName: "+Hostile, "userAccountControl: 66048",
		"description:: "+base64.StdEncoding.EncodeToString([]byte(hostile)))
	computer("CN=Computers", "NEWSYNC01", "newsync01.aadc.test", 4096, time.Time{})
	computer("CN=Computers", "AADC01", "aadc01.aadc.test", 4096, now.Add(-3*day))
	computer("OU=Servers,OU=Tier0", "AADC02", "aadc02.aadc.test", 4096, now.Add(-5*day))
	computer("CN=Computers", "AADC03", "aadc03.aadc.test", 4098, now.Add(-2*day))
	computer("CN=Computers", "AADC04", "aadc04.aadc.test", 4096, now.Add(-200*day-time.Hour))
	computer("OU=Subsidiary", "FABSYNC01", "fabsync01.sub.aadc.test", 4096, now.Add(-1*day))

	pw := utf16le(`"` + ReaderPassword + `"`)
	entry("CN="+Reader+",CN=Users,"+BaseDN, "objectClass: user", "sAMAccountName: "+Reader, "userAccountControl: 66048",
		"unicodePwd:: "+base64.StdEncoding.EncodeToString(pw))

	for i := range BulkUsers {
		name := fmt.Sprintf("bulk%04d", i)
		entry("CN="+name+",OU=Bulk,"+BaseDN, "objectClass: user", "sAMAccountName: "+name, "userAccountControl: 514",
			"description: an ordinary user")
	}
	return b.String()
}

// Reader is an ordinary user (password ReaderPassword): any authenticated
// account can read the connector accounts.
const (
	Reader         = "aadc-reader"
	ReaderPassword = "Read3r!Passw0rd-Test"
)

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

// FileTime is t as an Active Directory large-integer time.
func FileTime(t time.Time) int64 { return t.UnixNano()/100 + 116444736000000000 }
