export function RunPage({ runId }: { runId: string }) {
  return <p>{runId}</p>;
}
