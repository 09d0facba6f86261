namespace Kvorum.Cli.View;

/// <summary>
/// What the page may change in the system it shows, when the view was started for it (<c>kvorum lab up</c>,
/// <c>kvorum cluster up</c>): the buttons it offers, the acts behind them, and the fault state drawn over the
/// members. Each act runs the same code as the command of that name.
/// </summary>
internal interface IViewControls
{
    /// <summary>The actions the page offers buttons for, such as <c>kill</c> or <c>partition</c>.</summary>
    IReadOnlyList<string> Actions { get; }

    /// <summary>The heading of the page's controls: what they act on.</summary>
    string Title => "Lab";

    /// <summary>Runs <paramref name="request"/> and returns what the command would have printed.</summary>
    /// <exception cref="CommandFailedException">It was refused; the message says why, in one line.</exception>
    Task<string> RunAsync(ControlRequest request, CancellationToken cancellation);

    /// <summary>
    /// The fault state as the page draws it (JSON: each member's endpoint and process, the cut links, the faults in
    /// force), or null once the system is gone.
    /// </summary>
    string? Picture();

    /// <summary>The narrated scenarios the page offers to start (action <c>scenario</c>); empty when none.</summary>
    IReadOnlyList<ScenarioChoice> Scenarios { get; }

    /// <summary>
    /// The members the view should follow now (a running scenario's, while it runs), or null to keep those it was
    /// started with.
    /// </summary>
    IReadOnlyList<Uri>? Members();

    /// <summary>Where a running scenario's lines go; the view relays them to its pages.</summary>
    void Narrate(Action<ScenarioLine> relay);
}

/// <summary>A scenario the page can start.</summary>
/// <param name="Name">Its name, as <c>kvorum lab scenario</c> takes it.</param>
/// <param name="Summary">One line on what it shows.</param>
internal sealed record ScenarioChoice(string Name, string Summary);

/// <summary>One line of a running scenario, or its end.</summary>
/// <param name="Name">The scenario.</param>
/// <param name="Text">A line it printed, or null at its start and end.</param>
/// <param name="Running">False once it has ended.</param>
/// <param name="Exit">Its exit code once ended (0: every prediction held).</param>
internal sealed record ScenarioLine(string Name, string? Text, bool Running, int? Exit = null);

/// <summary>One press of a control button, as the page posts it to <c>/api/control</c>.</summary>
/// <param name="Action">One of <see cref="IViewControls.Actions"/>.</param>
/// <param name="Node">The member, by number (kill, start, pause, resume, isolate).</param>
/// <param name="Groups">Partition: the groups of member numbers.</param>
/// <param name="From">Cut: the member whose packets are dropped.</param>
/// <param name="To">Cut: the member they go to.</param>
/// <param name="OneWay">Cut: only that direction.</param>
/// <param name="Scenario">Scenario: the one to start.</param>
internal sealed record ControlRequest(string? Action, int Node = 0, int[][]? Groups = null, int From = 0, int To = 0, bool OneWay = false, string? Scenario = null);
