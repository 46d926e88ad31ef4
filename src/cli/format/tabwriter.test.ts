import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ellipsis } from './display.js';
import { stringWidth, tabwrite } from './tabwriter.js';

describe('tab writer (Go text/tabwriter as Docker configures it: minwidth 10, padding 3)', () => {
  it('pads each column block to its widest cell plus 3, at least 10', () => {
    assert.equal(
      tabwrite('aaaa\tbbb\td\naa\tb\tdd\na\t\naa\tcccc\teee\n'),
      'aaaa      bbb       d\naa        b         dd\na         \naa        cccc      eee\n',
    );
    assert.equal(tabwrite('CONTAINER ID\tNAMES\nabc\tx\n'), 'CONTAINER ID   NAMES\nabc            x\n');
  });
  it('a line without tabs ends the blocks above it', () => {
    assert.equal(tabwrite('a\tb\nlong line here\nccccccccccccc\td\n'), 'a         b\nlong line here\nccccccccccccc   d\n');
  });
  it('measures East Asian wide characters as two columns', () => {
    assert.equal(stringWidth('日本'), 4);
    assert.equal(stringWidth('é'), 1);
    assert.equal(stringWidth('e\u0301'), 1);
    assert.equal(tabwrite('日本\tx\nab\ty\n'), '日本      x\nab        y\n');
  });
  it('keeps text without a final newline', () => {
    assert.equal(tabwrite('a\tb'), 'a         b');
    assert.equal(tabwrite(''), '');
  });
  it('honours other settings', () => {
    assert.equal(tabwrite('a\tb\n', { minwidth: 0, padding: 1, padchar: '.' }), 'a.b\n');
  });
});

describe('Ellipsis (Docker’s displayutils)', () => {
  it('truncates to a display width with …', () => {
    assert.equal(ellipsis("sh -c 'echo a very long command line here'", 20), "sh -c 'echo a very …");
    assert.equal(ellipsis('short', 20), 'short');
    assert.equal(ellipsis('abcdef', 1), 'a');
    assert.equal(ellipsis('abcdef', 0), '');
    assert.equal(ellipsis('abcdef', 6), 'abcdef');
    assert.equal(ellipsis('abcdefg', 6), 'abcde…');
    assert.equal(ellipsis('日本語のテキスト', 7), '日本語…');
    assert.equal(ellipsis('日本語', 6), '日本語');
    assert.equal(ellipsis('é-long-accented-name', 10), 'é-long-ac…');
  });
});
