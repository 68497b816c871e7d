// Turns the API's one error shape ({"error": {code, message, details}}) into a sentence for the user.

interface ApiErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

export function errorMessage(error: unknown): string {
  if (!error) return 'Something went wrong';
  if (typeof error === 'string') return error;
  const body = error as ApiErrorBody;
  if (body.error?.message) {
    const details = Array.isArray(body.error.details) ? (body.error.details as { field?: string; message?: string }[]) : [];
    const first = details.find((d) => d.field && d.message);
    return first ? `${body.error.message} (${first.field}: ${first.message})` : body.error.message;
  }
  if (error instanceof Error) return error.message;
  return 'Something went wrong';
}
