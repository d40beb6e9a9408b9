/** The experiments list: name, id, last update; each links to its runs table. */
import { api, type Experiment } from './api';
import { Empty, Show, Title, usePageTitle } from './common';
import { fmtTime } from './format';
import { useLoad } from './hooks';
import { href } from './router';

export function ExperimentsPage() {
  usePageTitle('Experiments');
  const l = useLoad(() => api<{ experiments: Experiment[] }>('experiments'), []);
  return (
    <section>
      <Title>Experiments</Title>
      <Show l={l}>
        {(d) =>
          d.experiments.length === 0 ? (
            <Empty>
              No experiments yet. Train a model (`carprice train` or `carprice repro`) and its runs appear here.
            </Empty>
          ) : (
            <div class="table-wrap">
              <table class="grid" data-testid="experiments">
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>ID</th>
                    <th>Last update</th>
                    <th class="hide-sm">Created</th>
                    <th class="hide-sm">Artifact location</th>
                  </tr>
                </thead>
                <tbody>
                  {d.experiments.map((e) => (
                    <tr key={e.id}>
                      <td>
                        <a href={href(['experiments', e.id])}>{e.name}</a>
                      </td>
                      <td>{e.id}</td>
                      <td>{fmtTime(e.updated)}</td>
                      <td class="hide-sm">{fmtTime(e.created)}</td>
                      <td class="hide-sm mono">{e.artifactLocation}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </section>
  );
}
