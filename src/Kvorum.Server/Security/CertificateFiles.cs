using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Kvorum.Server.Security;

/// <summary>
/// Reads the PEM files of the TLS flags and checks them the way a user needs to hear about it: each failure is a
/// <see cref="TlsSetupException"/> whose message names the file and says what is wrong in one line.
/// </summary>
internal static class CertificateFiles
{
    /// <summary>A certificate and its private key, checked: both readable, matching, and valid now.</summary>
    /// <param name="certFile">The certificate (PEM); the first one in the file is the member's own.</param>
    /// <param name="keyFile">The private key (PEM, PKCS#8, PKCS#1 or SEC1).</param>
    /// <returns>The certificate with its key.</returns>
    /// <exception cref="TlsSetupException">A file cannot be used.</exception>
    public static X509Certificate2 LoadIdentity(string certFile, string keyFile)
    {
        var certText = ReadText(certFile, "certificate");
        var keyText = ReadText(keyFile, "key");
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(certText, keyText);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // Which one is wrong: a certificate that loads alone, with a key in the key file, means they do not match.
            try
            {
                using var alone = X509Certificate2.CreateFromPem(certText);
            }
            catch (Exception inner) when (inner is CryptographicException or ArgumentException)
            {
                throw new TlsSetupException($"{certFile} holds no PEM certificate", e);
            }
            if (!keyText.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
                throw new TlsSetupException($"{keyFile} holds no PEM private key", e);
            throw new TlsSetupException($"the private key in {keyFile} does not match the certificate in {certFile}", e);
        }
        CheckValidNow(certificate, certFile);
        return certificate;
    }

    /// <summary>The CA certificates of a trusted-CA file.</summary>
    /// <param name="caFile">One or more PEM certificates.</param>
    /// <returns>The certificates.</returns>
    /// <exception cref="TlsSetupException">The file cannot be read or holds no certificate.</exception>
    public static X509Certificate2Collection LoadAuthorities(string caFile)
    {
        var text = ReadText(caFile, "CA");
        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPem(text);
        }
        catch (CryptographicException e)
        {
            throw new TlsSetupException($"{caFile} holds a malformed PEM certificate ({e.Message.TrimEnd('.')})", e);
        }
        if (authorities.Count == 0)
            throw new TlsSetupException($"{caFile} holds no PEM certificate");
        return authorities;
    }

    /// <summary>The revocation list of a CRL file.</summary>
    /// <param name="crlFile">A CRL, DER or PEM.</param>
    /// <returns>The serial numbers it revokes.</returns>
    /// <exception cref="TlsSetupException">The file cannot be read or is not a CRL.</exception>
    public static RevocationList LoadRevocationList(string crlFile)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(crlFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TlsSetupException($"cannot read CRL file {crlFile}: {e.Message.TrimEnd('.')}", e);
        }
        return RevocationList.Parse(bytes) ?? throw new TlsSetupException($"{crlFile} is not a certificate revocation list (DER or PEM)");
    }

    /// <summary>Throws when <paramref name="certificate"/> is not valid at this moment.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <param name="file">Where it came from.</param>
    /// <exception cref="TlsSetupException">It expired or is not yet valid.</exception>
    public static void CheckValidNow(X509Certificate2 certificate, string file)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var now = DateTime.Now;
        if (certificate.NotAfter < now)
            throw new TlsSetupException($"the certificate in {file} expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC");
        if (certificate.NotBefore > now)
            throw new TlsSetupException($"the certificate in {file} is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC");
    }

    private static string ReadText(string path, string what)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TlsSetupException($"cannot read {what} file {path}: {e.Message.TrimEnd('.')}", e);
        }
    }
}
