// The site's shell: header, navigation, the page for the current path.
import { render } from "preact";
import { useEffect, useRef } from "preact/hooks";
import { session, signOut } from "./auth";
import { interceptLinks, match, navigate, useLocation } from "./router";
import { useStore } from "./store";
import { AgentPage } from "./pages/AgentPage";
import { DecisionsPage } from "./pages/DecisionsPage";
import { LeaderboardPage } from "./pages/LeaderboardPage";
import { MyAgentsPage } from "./pages/MyAgentsPage";
import { PublicAgentPage } from "./pages/PublicAgentPage";
import { SignInPage } from "./pages/SignInPage";
import "./styles.css";

function Page({ path }: { path: string }) {
  let m: Record<string, string> | null;
  if (path === "/" || path === "/leaderboard") return <LeaderboardPage />;
  if ((m = match("/leaderboard/:agentId", path))) return <PublicAgentPage agentId={m.agentId} />;
  if (path === "/agents") return <MyAgentsPage />;
  if ((m = match("/agents/:agentId", path))) return <AgentPage agentId={m.agentId} />;
  if (path === "/decisions") return <DecisionsPage />;
  if (path === "/sign-in") return <SignInPage />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{path}</code>. <a href="/">Go to the leaderboard</a>.
      </p>
    </section>
  );
}

const NAV = [
  { href: "/", label: "Leaderboard" },
  { href: "/agents", label: "My agents" },
  { href: "/decisions", label: "Decisions" },
];

function App() {
  const loc = useLocation();
  const user = useStore(session);
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    // After a client-side navigation, move focus to the new page's heading (screen readers).
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = main.current?.querySelector("h1");
    if (h1) {
      h1.setAttribute("tabindex", "-1");
      h1.focus();
    }
  }, [loc.path]);
  const current = (href: string) =>
    href === "/" ? loc.path === "/" || loc.path.startsWith("/leaderboard") : loc.path.startsWith(href);
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header class="site">
        <a class="brand" href="/">The Farm</a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <a href={n.href} aria-current={current(n.href) ? "page" : undefined}>{n.label}</a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          {user ? (
            <>
              <span data-testid="signed-in-as">Signed in as <strong>{user.uid}</strong></span>
              <button
                type="button"
                class="secondary"
                onClick={async () => {
                  await signOut();
                  navigate("/sign-in");
                }}
              >
                Sign out
              </button>
            </>
          ) : (
            <a class="button" href={`/sign-in?next=${encodeURIComponent(loc.path + (loc.query.toString() ? `?${loc.query}` : ""))}`}>
              Sign in
            </a>
          )}
        </div>
      </header>
      <main id="main" ref={main}>
        <Page path={loc.path} />
      </main>
    </>
  );
}

const root = document.getElementById("app")!;
interceptLinks(document.body);
render(<App />, root);
