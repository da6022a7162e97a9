export function ErrorBox({ error, title = 'Error' }) {
  if (!error) return null;
  return (
    <div className="error-box" role="alert" data-testid="error-box">
      <strong>
        {title}: <code>{error.kind}</code>
      </strong>
      {error.field && (
        <>
          {' '}
          at <code>{error.field}</code>
        </>
      )}
      <p>{error.message}</p>
    </div>
  );
}
