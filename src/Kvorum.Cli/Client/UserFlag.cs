namespace Kvorum.Cli.Client;

/// <summary>
/// etcdctl's <c>--user name[:password]</c> and <c>--password</c>: the name, and the password from the flag, else from
/// the terminal (asked for on the error stream, read from the input without echo when it is a terminal).
/// </summary>
internal static class UserFlag
{
    /// <summary>The credentials the flags give; null without <c>--user</c>.</summary>
    /// <exception cref="UsageException">The flags are malformed, or no password could be read.</exception>
    public static ClientCredentials? Resolve(string? user, string? password, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (user is null)
        {
            return password is null ? null : throw new UsageException("--password needs --user to name the user");
        }
        if (password is not null)
        {
            return user.Contains(':', StringComparison.Ordinal)
                ? throw new UsageException("--user must not hold a password when --password is given")
                : new ClientCredentials(user, password);
        }
        var colon = user.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
            return new ClientCredentials(user[..colon], user[(colon + 1)..]);
        if (user.Length == 0)
            throw new UsageException("--user must name a user");
        return new ClientCredentials(user, Ask("Password: ", context));
    }

    /// <summary>Asks for a password: without echo on a terminal, else the next line of the input.</summary>
    /// <exception cref="UsageException">The input has ended.</exception>
    public static string Ask(string prompt, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Error.Write(prompt);
        context.Error.Flush();
        string? line;
        if (!Console.IsInputRedirected && ReferenceEquals(context.In, Console.In))
        {
            var typed = new System.Text.StringBuilder();
            while (true)
            {
                var key = Console.ReadKey(intercept: true);
                if (key.Key == ConsoleKey.Enter)
                    break;
                if (key.Key == ConsoleKey.Backspace)
                {
                    if (typed.Length > 0)
                        typed.Length--;
                    continue;
                }
                typed.Append(key.KeyChar);
            }
            context.Error.Write("\n");
            line = typed.ToString();
        }
        else
        {
            line = context.In.ReadLine();
        }
        return line ?? throw new UsageException("no password given: the input ended before one was read");
    }
}
