// Flink SQL as a CodeMirror SQL dialect: the SQL keywords a kappanb job uses plus Flink's
// streaming ones (windows, watermarks, temporal joins, MATCH_RECOGNIZE), Flink's type
// names and its common built-in functions. The lezer SQL parser of @codemirror/lang-sql
// does the tokenizing; the lists only decide which words are keywords, types or builtins.
import { SQLDialect } from '@codemirror/lang-sql';

const STANDARD_KEYWORDS = `
  add after all alter and any are as asc at authorization before begin between both by
  call cascade case cast catalog check collate column commit constraint create cross cube
  current current_date current_time current_timestamp current_user cursor cycle database
  day declare default delete desc describe distinct drop each else end escape except exists
  explain extract false fetch filter first following for foreign from full function grant
  group grouping having hour if ilike in inner insert intersect interval into is join key
  language last lateral leading left like limit local localtime localtimestamp match merge
  minute month natural new next no not null nulls of offset on only or order outer over
  overwrite partition primary range recursive references replace reset revoke right rollup
  row rows second select set sets show similar some table temporary then to trailing true
  truncate union unique unknown unnest update use using values view when where window with
  within without year zone
`;

const FLINK_KEYWORDS = `
  tumble hop cumulate session descriptor watermark watermarks system_time proctime rowtime
  match_recognize measures pattern define after skip past per one matches subset
  preceding unbounded final running permute classifier match_number
  catalogs databases tables views functions modules jars compile plan statement
  execute enforced comment computed metadata virtual partitioned distributed buckets
  if_exists temporal module load unload
`;

const FLINK_TYPES = `
  array bigint binary boolean bytes char character date dec decimal double float int
  integer interval map multiset null numeric raw real row smallint string time timestamp
  timestamp_ltz tinyint varbinary varchar variant zone local
`;

const FLINK_BUILTINS = `
  abs avg ceil coalesce collect concat concat_ws count cume_dist current_row_timestamp
  current_watermark date_format dayofmonth dense_rank first_value floor from_unixtime
  greatest hash_code hop_end hop_proctime hop_rowtime hop_start ifnull initcap
  json_array json_object json_query json_value lag last_value lead least listagg lower
  lpad ltrim max md5 min mod ntile nullif now percent_rank power rank regexp
  regexp_extract regexp_replace round row_number rpad rtrim session_end session_start
  sha256 split_index stddev_pop substr substring sum timestampadd timestampdiff
  to_date to_timestamp to_timestamp_ltz trim try_cast tumble_end tumble_proctime
  tumble_rowtime tumble_start unix_timestamp upper uuid var_pop window_end window_start
  window_time
`;

const words = (list: string): string =>
  list
    .split(/\s+/)
    .filter(w => w)
    .join(' ');

/** Flink SQL: backquoted identifiers, no backslash escapes in strings, `--` comments. */
export const FlinkSQL = SQLDialect.define({
  keywords: words(STANDARD_KEYWORDS + FLINK_KEYWORDS),
  types: words(FLINK_TYPES),
  builtin: words(FLINK_BUILTINS),
  identifierQuotes: '`',
  backslashEscapes: false,
  hashComments: false,
  spaceAfterDashes: false,
  doubleQuotedStrings: false
});

/** Upper-case keywords for completion in a job body (those most typed first). */
export const SQL_COMPLETION_KEYWORDS: readonly string[] = words(STANDARD_KEYWORDS + FLINK_KEYWORDS)
  .split(' ')
  .map(w => w.toUpperCase());
