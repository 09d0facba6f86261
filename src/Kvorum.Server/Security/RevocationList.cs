using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Kvorum.Server.Security;

/// <summary>
/// The serial numbers a certificate revocation list (RFC 5280 §5) revokes. As etcd's CRL check, a certificate whose
/// serial number is listed is refused; the list's own signature and dates are not checked (the operator chose the file).
/// </summary>
internal sealed class RevocationList
{
    private readonly HashSet<BigInteger> _serials;

    private RevocationList(HashSet<BigInteger> serials) => _serials = serials;

    /// <summary>How many certificates it revokes.</summary>
    public int Count => _serials.Count;

    /// <summary>Whether <paramref name="certificate"/>'s serial number is listed.</summary>
    /// <param name="certificate">A certificate.</param>
    public bool Revokes(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return _serials.Contains(new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: false, isBigEndian: true));
    }

    /// <summary>Reads a CRL, DER or PEM (<c>-----BEGIN X509 CRL-----</c>).</summary>
    /// <param name="bytes">The file's bytes.</param>
    /// <returns>The list, or null when the bytes are not a CRL.</returns>
    public static RevocationList? Parse(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var der = bytes;
        var text = Encoding.ASCII.GetString(bytes);
        if (text.Contains("-----BEGIN", StringComparison.Ordinal))
        {
            if (!PemEncoding.TryFind(text, out var fields) || text[fields.Label] != "X509 CRL")
                return null;
            der = Convert.FromBase64String(text[fields.Base64Data]);
        }
        try
        {
            return new RevocationList(Serials(der));
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    /// <summary>
    /// CertificateList ::= SEQUENCE { tbsCertList, signatureAlgorithm, signature }; TBSCertList ::= SEQUENCE { version
    /// INTEGER OPTIONAL, signature, issuer, thisUpdate, nextUpdate Time OPTIONAL, revokedCertificates SEQUENCE OF
    /// SEQUENCE { userCertificate INTEGER, revocationDate, crlEntryExtensions OPTIONAL } OPTIONAL, crlExtensions [0] OPTIONAL }.
    /// </summary>
    private static HashSet<BigInteger> Serials(byte[] der)
    {
        var list = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var tbs = list.ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
            tbs.ReadInteger();
        tbs.ReadSequence(); // signature algorithm
        tbs.ReadSequence(); // issuer
        SkipTime(tbs); // thisUpdate
        if (tbs.HasData && IsTime(tbs.PeekTag()))
            SkipTime(tbs); // nextUpdate
        var serials = new HashSet<BigInteger>();
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var revoked = tbs.ReadSequence();
            while (revoked.HasData)
            {
                var entry = revoked.ReadSequence();
                serials.Add(entry.ReadInteger());
            }
        }
        return serials;
    }

    private static bool IsTime(Asn1Tag tag) =>
        tag.HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.UtcTime)) || tag.HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.GeneralizedTime));

    private static void SkipTime(AsnReader reader)
    {
        if (reader.PeekTag().HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.UtcTime)))
            reader.ReadUtcTime();
        else
            reader.ReadGeneralizedTime();
    }
}
