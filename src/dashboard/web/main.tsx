/** The dashboard's browser entry: the layout, the navigation and the page for the current #route. */
import { render } from 'preact';
import { api, type Session } from './api';
import { ErrorBox } from './common';
import { ExperimentsPage } from './experiments';
import { useLoad } from './hooks';
import { href, useRoute } from './router';
import { RunsPage } from './runs';
import { RunPage } from './run';
import { ComparePage } from './compare';
import { ModelsPage, ModelPage } from './models';
import { PipelinePage } from './pipeline';
import { PredictPage } from './predict';
import { MonitoringPage } from './monitoring';

const NAV: Array<[string, string, string]> = [
  ['experiments', 'Experiments', href([])],
  ['models', 'Models', href(['models'])],
  ['pipeline', 'Pipeline', href(['pipeline'])],
  ['predict', 'Predict', href(['predict'])],
  ['monitoring', 'Monitoring', href(['monitoring'])],
];

function App() {
  const route = useRoute();
  const session = useLoad(() => api<Session>('session'), []);
  const [first, second] = route.path;
  const section = !first || first === 'experiments' || first === 'runs' || first === 'compare' ? 'experiments' : first;
  let page;
  const s = session.data;
  if (!first) page = <ExperimentsPage />;
  else if (first === 'experiments' && second) page = <RunsPage experimentId={second} route={route} />;
  else if (first === 'experiments') page = <ExperimentsPage />;
  else if (first === 'runs' && second) page = <RunPage runId={second} />;
  else if (first === 'compare') page = <ComparePage route={route} />;
  else if (first === 'models' && second) page = s ? <ModelPage name={second} session={s} route={route} /> : null;
  else if (first === 'models') page = <ModelsPage />;
  else if (first === 'pipeline') page = <PipelinePage />;
  else if (first === 'predict') page = <PredictPage />;
  else if (first === 'monitoring') page = <MonitoringPage route={route} />;
  else page = <ErrorBox error={new Error(`No page #/${route.path.join('/')}`)} />;
  return (
    <>
      <header class="top">
        <a class="brand" href={href([])}>
          carprice
        </a>
        <nav aria-label="sections">
          {NAV.map(([id, label, to]) => (
            <a key={id} href={to} aria-current={section === id ? 'page' : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who muted">{s ? (s.user ? `signed in as ${s.user}` : s.host) : ''}</span>
      </header>
      <main>{session.error ? <ErrorBox error={session.error} /> : page}</main>
    </>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the "Loading" placeholder of the HTML shell
render(<App />, root);
