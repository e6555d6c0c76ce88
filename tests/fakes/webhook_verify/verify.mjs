// Verifies one Standard Webhooks delivery with the reference implementation (the
// `standardwebhooks` npm package): reads {"secret", "headers", "body"} as JSON on stdin, exits 0
// when the signature verifies, else prints why and exits 1. Used by tests/fakes/receivers.py.
import { Webhook } from 'standardwebhooks';

let input = '';
process.stdin.on('data', (c) => (input += c));
process.stdin.on('end', () => {
  try {
    const { secret, headers, body } = JSON.parse(input);
    new Webhook(secret).verify(body, headers);
    process.stdout.write('ok\n');
  } catch (e) {
    process.stdout.write(`invalid: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
  }
});
