import t from 'tap';
import { dedupEnv } from './environ';

t.test('a repeated name keeps its first place and its last value', async (t) => {
  t.same(dedupEnv(['A=1', 'B=2', 'A=3', 'C=', 'B=4']), ['A=3', 'B=4', 'C=']);
});

t.test('names differ by case and by what follows =; no change without repeats', async (t) => {
  t.same(dedupEnv(['a=1', 'A=2', 'AB=3', 'A=B=4']), ['a=1', 'A=B=4', 'AB=3']);
  t.same(dedupEnv([]), []);
});
