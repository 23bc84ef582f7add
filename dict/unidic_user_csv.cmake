# Converts dict/user.csv ("surface,reading") into a UniDic lexicon CSV for mecab-dict-index.
# Usage: cmake -DIN=user.csv -DOUT=user-unidic.csv -P unidic_user_csv.cmake
#
# Every entry is a common noun with the connection ids of クレジット (名詞,普通名詞,一般) and a low cost so
# that the whole word wins over MeCab's split. Field 26 (aModType) carries the marker "yosan-user", which
# the analyser uses to index the word's parts as well.
file(STRINGS "${IN}" lines ENCODING UTF-8)
set(out "")
foreach(line IN LISTS lines)
  string(STRIP "${line}" line)
  if(line STREQUAL "" OR line MATCHES "^#")
    continue()
  endif()
  string(REPLACE "," ";" fields "${line}")
  list(LENGTH fields n)
  if(NOT n EQUAL 2)
    message(FATAL_ERROR "${IN}: expected \"surface,reading\": ${line}")
  endif()
  list(GET fields 0 surface)
  list(GET fields 1 reading)
  string(TOLOWER "${surface}" surface)
  # surface,left,right,cost, pos1-4, cType,cForm, lForm,lemma,orth,pron,orthBase,pronBase, goshu,
  # iType,iForm,fType,fForm,iConType,fConType, type, kana,kanaBase,form,formBase, aType,aConType,aModType, lid,lemma_id
  string(APPEND out "${surface},12894,1238,-8000,名詞,普通名詞,一般,*,*,*,${reading},${surface},${surface},${reading},${surface},${reading},混,*,*,*,*,*,*,体,${reading},${reading},${reading},${reading},*,C1,yosan-user,0,0\n")
endforeach()
file(WRITE "${OUT}" "${out}")
