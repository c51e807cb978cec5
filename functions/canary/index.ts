export async function handler(event: unknown): Promise<void> {
  throw new Error('handler lands with the Lambda handler work');
}
