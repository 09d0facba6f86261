using System.Diagnostics;

namespace Kvorum.Lab.Host;

/// <summary>
/// Runs the host's network tools (<c>ip</c>, <c>nft</c>, <c>tc</c>) and turns a failure into a
/// <see cref="LabException"/> that names the command and quotes its error.
/// </summary>
internal static class CommandRunner
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    /// <summary>Runs a command and returns its standard output; throws when it exits non-zero.</summary>
    /// <param name="file">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="input">Written to its standard input, then closed; null for none.</param>
    /// <returns>Standard output.</returns>
    /// <exception cref="LabException">The command failed or did not finish within 30 s.</exception>
    public static string Run(string file, IEnumerable<string> arguments, string? input = null)
    {
        (var code, var output, var error) = TryRun(file, arguments, input);
        if (code != 0)
            throw new LabException($"{Display(file, arguments)} failed (exit {code}): {FirstLine(error.Length > 0 ? error : output)}");
        return output;
    }

    /// <summary>Runs a command and returns its exit code and output, whatever the code.</summary>
    /// <param name="file">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="input">Written to its standard input, then closed; null for none.</param>
    /// <returns>Exit code, standard output, standard error.</returns>
    public static (int Code, string Output, string Error) TryRun(string file, IEnumerable<string> arguments, string? input = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new LabException($"cannot run {file}: {e.Message}", e);
        }

        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(Deadline))
        {
            process.Kill(entireProcessTree: true);
            throw new LabException($"{Display(file, start.ArgumentList)} did not finish within {Deadline.TotalSeconds:0} s");
        }

        return (process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
    }

    /// <summary>The command as a user would type it.</summary>
    /// <param name="file">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <returns>One line.</returns>
    public static string Display(string file, IEnumerable<string> arguments) =>
        string.Join(' ', new[] { file }.Concat(arguments).Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));

    private static string FirstLine(string text)
    {
        var trimmed = text.Trim();
        var newline = trimmed.IndexOf('\n', StringComparison.Ordinal);
        return newline < 0 ? trimmed : trimmed[..newline].Trim();
    }
}
