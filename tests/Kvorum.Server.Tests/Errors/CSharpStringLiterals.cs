namespace Kvorum.Server.Tests.Errors;

/// <summary>
/// Finds the string literals of a C# source file, skipping comments and character literals: enough of C#'s lexical
/// grammar (regular, verbatim, interpolated and raw strings, with interpolation holes that hold strings of their own)
/// to tell a literal from a comment that quotes one.
/// </summary>
internal sealed class CSharpStringLiterals
{
    private readonly string _source;
    private readonly List<string> _found = [];
    private int _at;

    private CSharpStringLiterals(string source) => _source = source;

    /// <summary>The text of each string literal in <paramref name="source"/>, in order; an interpolated string's text
    /// runs up to its first hole (which is where the literal's own words are).</summary>
    public static IReadOnlyList<string> In(string source)
    {
        var literals = new CSharpStringLiterals(source);
        literals.Code(inHole: false);
        return literals._found;
    }

    private char Peek(int ahead = 0) => _at + ahead < _source.Length ? _source[_at + ahead] : '\0';

    private bool StartsWith(string text) => string.CompareOrdinal(_source, _at, text, 0, text.Length) == 0;

    /// <summary>Reads code up to the end, or up to the brace that closes an interpolation hole.</summary>
    private void Code(bool inHole)
    {
        var braces = 0;
        while (_at < _source.Length)
        {
            var c = Peek();
            if (StartsWith("//"))
                SkipTo("\n");
            else if (StartsWith("/*"))
                SkipTo("*/");
            else if (c == '\'')
                CharLiteral();
            else if (c is '"' or '$' or '@' && StringStart() is { } start)
                String(start);
            else if (c == '{')
            {
                braces++;
                _at++;
            }
            else if (c == '}')
            {
                if (inHole && braces == 0)
                    return;
                braces--;
                _at++;
            }
            else
                _at++;
        }
    }

    private void SkipTo(string end)
    {
        var found = _source.IndexOf(end, _at + 2, StringComparison.Ordinal);
        _at = found < 0 ? _source.Length : found + end.Length;
    }

    private void CharLiteral()
    {
        _at++;
        while (_at < _source.Length && Peek() != '\'')
            _at += Peek() == '\\' ? 2 : 1;
        _at++;
    }

    private readonly record struct Start(int Dollars, bool Verbatim, int Quotes, int Length);

    /// <summary>The prefix of a string literal at the cursor (<c>$</c>s, <c>@</c>, and its opening quotes), or null.</summary>
    private Start? StringStart()
    {
        int i = _at, dollars = 0;
        var verbatim = false;
        for (; i < _source.Length; i++)
        {
            if (_source[i] == '$')
                dollars++;
            else if (_source[i] == '@' && !verbatim)
                verbatim = true;
            else
                break;
        }
        if (i >= _source.Length || _source[i] != '"')
            return null;
        var quotes = 0;
        while (i + quotes < _source.Length && _source[i + quotes] == '"')
            quotes++;
        // Three quotes or more open a raw literal, closed by as many; otherwise one quote opens it ("" being empty).
        var open = quotes >= 3 && !verbatim ? quotes : 1;
        return new Start(dollars, verbatim, open, i - _at + open);
    }

    private void String(Start start)
    {
        _at += start.Length;
        var textStart = _at;
        var recorded = false;
        void Record()
        {
            if (!recorded)
                _found.Add(_source[textStart.._at]);
            recorded = true;
        }
        string close = new('"', start.Quotes);
        var holeBraces = Math.Max(start.Dollars, 1);
        while (_at < _source.Length)
        {
            var c = Peek();
            if (start.Quotes == 1 && !start.Verbatim && c == '\\')
                _at += 2;
            else if (start.Quotes == 1 && start.Verbatim && StartsWith("\"\""))
                _at += 2;
            else if (StartsWith(close))
            {
                Record();
                _at += close.Length;
                return;
            }
            else if (start.Dollars > 0 && c == '{')
            {
                if (start.Quotes == 1 && Peek(1) == '{')
                {
                    _at += 2;
                    continue;
                }
                var run = 0;
                while (Peek(run) == '{')
                    run++;
                if (run < holeBraces)
                {
                    _at += run;
                    continue;
                }
                Record();
                _at += run;
                Code(inHole: true);
                _at += holeBraces; // the closing braces
            }
            else if (start.Quotes == 1 && !start.Verbatim && c == '\n')
                return; // an unterminated literal: stop at the line's end
            else
                _at++;
        }
    }
}
