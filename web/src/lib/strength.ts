// Password strength for the sign-up form: zxcvbn-ts with the common dictionaries (the
// breached-password list the server checks too, diceware words, keyboard graphs) and English
// feedback and first names. The English common-word, surname and Wikipedia lists are left out:
// they would add ~600 KB gzipped for little (the server's check is the authority). Even so this
// chunk is ~240 KB gzipped, so it is only ever imported lazily (components/PasswordStrength.tsx)
// and never lands in the dashboard's first load.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as common } from '@zxcvbn-ts/language-common';
import translations from '@zxcvbn-ts/language-en/dist/translations.mjs';
import firstnames from '@zxcvbn-ts/language-en/dist/firstnames.json.mjs';

export type Strength = {
  score: 0 | 1 | 2 | 3 | 4;
  warning: string;
  suggestions: string[];
};

const factory = new ZxcvbnFactory({
  translations,
  graphs: adjacencyGraphs,
  dictionary: { ...common, 'firstnames-en': firstnames },
});

export function estimate(password: string, userInputs: string[]): Strength {
  const r = factory.check(password, userInputs);
  return {
    score: r.score as Strength['score'],
    warning: r.feedback.warning ?? '',
    suggestions: r.feedback.suggestions ?? [],
  };
}
