/** Shared bits of the pages: loading and error states, the page title. */
import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';
import type { Loaded } from './hooks';

export function Title({ children, sub }: { children: ComponentChildren; sub?: ComponentChildren }) {
  return (
    <div class="title">
      <h1>{children}</h1>
      {sub ? <div class="sub">{sub}</div> : null}
    </div>
  );
}

export function usePageTitle(t: string): void {
  useEffect(() => {
    document.title = `${t} · carprice`;
  }, [t]);
}

export function ErrorBox({ error }: { error: Error }) {
  return (
    <div class="error" role="alert">
      {error.message}
    </div>
  );
}

export function Show<T>({ l, children }: { l: Loaded<T>; children: (d: T) => ComponentChildren }) {
  if (l.error) return <ErrorBox error={l.error} />;
  if (l.data === undefined)
    return (
      <p class="muted" aria-busy="true">
        Loading…
      </p>
    );
  return <>{children(l.data)}</>;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}
