using Kvorum.Server.Security;

namespace Kvorum.Server.Tests.Security;

/// <summary>The pieces behind the TLS flags: CRLs, cipher suite names, what a member accepts from the other end.</summary>
public sealed class TlsFileTests : IDisposable
{
    private readonly TestCertificates _certificates = new();

    [Fact]
    public void A_revocation_list_revokes_the_certificates_it_lists_and_no_other_in_DER_and_in_PEM()
    {
        var (_, _, revoked) = _certificates.Issue("revoked");
        var (_, _, kept) = _certificates.Issue("kept");
        var der = _certificates.Authority.RevocationList([revoked]);
        var pem = System.Text.Encoding.ASCII.GetBytes(new string(System.Security.Cryptography.PemEncoding.Write("X509 CRL", der)));
        foreach (var list in new[] { RevocationList.Parse(der)!, RevocationList.Parse(pem)! })
        {
            Assert.True(list.Revokes(revoked));
            Assert.False(list.Revokes(kept));
            Assert.Equal(1, list.Count);
        }
        Assert.Null(RevocationList.Parse([1, 2, 3]));
    }

    [Fact]
    public void Cipher_suites_are_taken_by_Go_and_by_IANA_names_and_an_unknown_name_is_named()
    {
        Assert.True(CipherSuiteNames.TryParse("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", out var suites, out _));
        Assert.Equal([System.Net.Security.TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, System.Net.Security.TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256], suites);
        Assert.False(CipherSuiteNames.TryParse("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,FAST", out _, out var unknown));
        Assert.Equal("FAST", unknown);
    }

    [Fact]
    public void A_member_accepts_and_dials_only_a_certificate_of_its_CA_with_the_allowed_CN()
    {
        var member = _certificates.Issue("m1");
        var security = TransportSecurity.Create(new TlsSettings
        {
            CertFile = member.Cert,
            KeyFile = member.Key,
            TrustedCaFile = _certificates.CaFile,
            ClientCertAuth = true,
            AllowedCommonName = "m2",
        }, "m1", [])!;
        using var strangerCa = ThrowawayCertificateAuthority.Create("stranger CA");
        var clientAuth = new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2");

        Assert.True(security.AcceptsPeer(_certificates.Issue("m2").Certificate, clientAuth));
        Assert.False(security.AcceptsPeer(_certificates.Issue("m3").Certificate, clientAuth));
        Assert.False(security.AcceptsPeer(_certificates.Issue("m2", by: strangerCa).Certificate, clientAuth));
        Assert.False(security.AcceptsPeer(null, clientAuth));

        // Dialing a peer, as etcd's client side: the server's certificate must have the allowed CN too.
        var dial = security.ClientOptions().RemoteCertificateValidationCallback!;
        Assert.True(dial(this, _certificates.Issue("m2").Certificate, null, System.Net.Security.SslPolicyErrors.None));
        Assert.False(dial(this, _certificates.Issue("m3").Certificate, null, System.Net.Security.SslPolicyErrors.None));
    }

    [Fact]
    public void A_key_of_another_certificate_is_refused_in_one_line_naming_both_files()
    {
        var a = _certificates.Issue("a");
        var b = _certificates.Issue("b");
        var e = Assert.Throws<TlsSetupException>(() => CertificateFiles.LoadIdentity(a.Cert, b.Key));
        Assert.Equal($"the private key in {b.Key} does not match the certificate in {a.Cert}", e.Message);
    }

    public void Dispose() => _certificates.Dispose();
}
